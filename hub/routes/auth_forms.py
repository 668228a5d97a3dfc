"""Forms for signing up and logging in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, ValidationError
from wtforms.validators import Email, EqualTo, InputRequired, Length

from hub.domain.accounts import MIN_PASSWORD_LENGTH, password_problem
from hub.routes.forms import strip

EMAIL_MESSAGE = "Enter an email address like name@example.com."
# Long passphrases are welcome; this only stops absurd inputs from reaching the KDF.
MAX_PASSWORD_LENGTH = 256


class LoginForm(FlaskForm):
    """Email and password, and whether to stay logged in."""

    email = EmailField(
        "Email",
        validators=[InputRequired("Enter your email address."), Length(max=254)],
        filters=[strip],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password.")],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me logged in on this device")


class SignupForm(FlaskForm):
    """A new account: name, email and a password typed twice."""

    name = StringField(
        "Your name",
        validators=[Length(max=120)],
        filters=[strip],
        description="Shown to your teammates beside the things you own.",
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        "Email",
        validators=[
            InputRequired("Enter your email address."),
            Email(EMAIL_MESSAGE),
            Length(max=254),
        ],
        filters=[strip],
        description="You log in with it.",
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[
            InputRequired("Choose a password."),
            Length(
                max=MAX_PASSWORD_LENGTH,
                message=f"Use at most {MAX_PASSWORD_LENGTH} characters.",
            ),
        ],
        description=f"At least {MIN_PASSWORD_LENGTH} characters. A short sentence works well.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Password again",
        validators=[
            InputRequired("Type the password again."),
            EqualTo("password", "The two passwords are not the same."),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_password(self, field: PasswordField) -> None:
        """The domain's strength rules, with their messages."""
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)
