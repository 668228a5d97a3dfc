"""Forms of the Sheet page: connect a sheet, and resume a paused sync."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from hub.routes.forms import strip

RESUME_CHOICES = ("apply", "restore")


class ConnectForm(FlaskForm):
    """The sheet to connect: its address as copied from the browser, or its id."""

    sheet = StringField(
        "Paste the sheet's address",
        validators=[
            DataRequired(message="Paste the sheet's address or its id."),
            Length(max=500, message="That is too long for a sheet's address."),
        ],
        filters=[strip],
        description=(
            "Copy it from the browser's address bar while the sheet is open "
            "(https://docs.google.com/spreadsheets/d/…/edit), or paste just the sheet's id."
        ),
    )


class ResumeForm(FlaskForm):
    """What wins after a guard rail paused the sync: the sheet ("apply") or the app
    ("restore")."""

    choice = HiddenField(validators=[AnyOf(RESUME_CHOICES)])
