"""Forms for members and invite links."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectChoice, SelectField
from wtforms.validators import Email, Length, Optional

from hub.domain.workspaces import INVITE_LIFETIMES
from hub.models import Role
from hub.routes.auth_forms import EMAIL_MESSAGE, SignupForm
from hub.routes.forms import strip

# Highest first, the order people think in when choosing.
ROLE_CHOICES = [SelectChoice(role.value, role.value.capitalize()) for role in reversed(Role)]
ROLE_MESSAGE = "Choose owner, editor, updater or viewer."
LIFETIME_MESSAGE = "Choose how long the link lasts: " + ", ".join(INVITE_LIFETIMES) + "."


class RoleForm(FlaskForm):
    """One member's role (prefixed per member, so each row's field has its own id)."""

    role = SelectField("Role", choices=ROLE_CHOICES, invalid_choice_message=ROLE_MESSAGE)


class InviteForm(FlaskForm):
    """A single-use invite link: the role it grants, how long it lasts, whom it is for."""

    role = SelectField(
        "Role",
        choices=ROLE_CHOICES,
        default=Role.EDITOR.value,
        invalid_choice_message=ROLE_MESSAGE,
    )
    days = RadioField(
        "Link expires after",
        choices=[SelectChoice(days, label) for label, days in INVITE_LIFETIMES.items()],
        coerce=int,
        default=7,
        invalid_value_message=LIFETIME_MESSAGE,
        invalid_choice_message=LIFETIME_MESSAGE,
    )
    email = EmailField(
        "Who is it for?",
        validators=[Optional(), Email(EMAIL_MESSAGE), Length(max=254)],
        filters=[strip],
        description="Their email, as a note for you. It also fills in their sign-up form, "
        "and lets someone added by an import set their password.",
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )


class InviteSignupForm(SignupForm):
    """Sign up through an invite link (the same fields as the sign-up page)."""
