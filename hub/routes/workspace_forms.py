"""Forms for creating, configuring and deleting a workspace."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import DataList, RadioField, SelectChoice, SelectField, StringField, ValidationError
from wtforms.validators import InputRequired, Length

from hub.domain.periods import MONTHS, WEEKDAYS, is_valid_time_zone
from hub.domain.workspaces import (
    SLUG_RE,
    WorkspaceSettings,
    is_known_currency,
    slug_taken,
    slugify,
)
from hub.models import Mode
from hub.routes.forms import strip

# Offered in the time-zone field's suggestion list; any IANA zone may be typed.
COMMON_TIME_ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Zurich",
    "Europe/Stockholm",
    "Europe/Oslo",
    "Europe/Copenhagen",
    "Europe/Helsinki",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/St_Johns",
    "America/Halifax",
    "America/New_York",
    "America/Toronto",
    "America/Chicago",
    "America/Mexico_City",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Vancouver",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
]

COMMON_CURRENCIES = [
    "USD",
    "EUR",
    "GBP",
    "CAD",
    "AUD",
    "NZD",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "JPY",
    "CNY",
    "HKD",
    "SGD",
    "INR",
    "AED",
    "ZAR",
    "BRL",
    "MXN",
]

MODE_CHOICES = [
    SelectChoice(Mode.BOTH.value, "KPIs and OKRs — health metrics and the quarter's bets"),
    SelectChoice(Mode.KPI.value, "KPIs only — always-on health metrics with targets"),
    SelectChoice(Mode.OKR.value, "OKRs only — quarterly objectives with key results"),
]
# English names from the domain, not `calendar`, whose names follow the server's locale
# and would then not match the values the domain accepts.
WEEKDAY_CHOICES = [SelectChoice(day, day.capitalize()) for day in WEEKDAYS]
MONTH_CHOICES = [SelectChoice(number, name) for number, name in enumerate(MONTHS, start=1)]
MONTH_NAMES = dict(enumerate(MONTHS, start=1))

SLUG_HELP = "Use 1–64 lowercase letters, digits and dashes, not starting or ending with a dash."


def upper(value: str | None) -> str | None:
    """A filter for codes: 'eur ' means EUR."""
    return value.strip().upper() if isinstance(value, str) else value


def lower(value: str | None) -> str | None:
    """A filter for addresses: 'Acme' means acme."""
    return value.strip().lower() if isinstance(value, str) else value


@lru_cache(maxsize=1)
def _time_zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def time_zone_name(value: str | None) -> str | None:
    """A filter: 'europe/paris ' means Europe/Paris (zone names are case-sensitive)."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    return _time_zones_by_lower_name().get(value.lower(), value)


class WorkspaceForm(FlaskForm):
    """A workspace's settings; the domain checks them all again before saving."""

    name = StringField(
        "Name",
        validators=[InputRequired("Give the workspace a name."), Length(max=120)],
        filters=[strip],
        description="Usually the client's or team's name.",
    )
    slug = StringField(
        "Address",
        validators=[InputRequired("Choose the workspace's address.")],
        filters=[lower],
        description="Lowercase letters, digits and dashes; it appears in every link, "
        "so changing it breaks bookmarks.",
        render_kw={"spellcheck": "false", "autocapitalize": "none", "maxlength": 64},
    )
    mode = RadioField(
        "What will you track?",
        choices=MODE_CHOICES,
        default=Mode.BOTH.value,
        invalid_choice_message="Choose what this workspace will track.",
    )
    time_zone = StringField(
        "Time zone",
        validators=[InputRequired("Choose a time zone.")],
        filters=[time_zone_name],
        default="UTC",
        description="Pick from the list or type any IANA zone, like Europe/Paris. "
        "It decides when a week starts and when a value becomes late.",
        datalist=DataList(COMMON_TIME_ZONES),
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    week_start = SelectField(
        "Weeks start on",
        choices=WEEKDAY_CHOICES,
        default="monday",
        invalid_choice_message="Choose a day of the week.",
    )
    fiscal_year_start_month = SelectField(
        "Fiscal year starts in",
        choices=MONTH_CHOICES,
        coerce=int,
        default=1,
        invalid_value_message="Choose a month from January to December.",
        invalid_choice_message="Choose a month from January to December.",
        description="Quarters follow the fiscal year: with July, Q1 is July to September.",
    )
    currency = StringField(
        "Currency",
        validators=[InputRequired("Choose a currency.")],
        filters=[upper],
        default="USD",
        description="A three-letter code such as USD, EUR or GBP, used for money KPIs.",
        datalist=DataList(COMMON_CURRENCIES),
        render_kw={"spellcheck": "false", "autocomplete": "off", "maxlength": 3},
    )

    # The domain checks all of these again; checking them here too shows every problem
    # at once, beside its field, instead of one round trip per mistake.
    def validate_slug(self, field: StringField) -> None:
        """A well-formed address (whether it is free is the domain's to say)."""
        if field.data and not SLUG_RE.match(field.data):
            raise ValidationError(f"{SLUG_HELP} For example: {ascii_slug(field.data)}")

    def validate_time_zone(self, field: StringField) -> None:
        """An IANA time zone."""
        if field.data and not is_valid_time_zone(field.data):
            raise ValidationError(
                f"{field.data} is not a time zone we know. Use a name like Europe/Paris "
                "or America/New_York."
            )

    def validate_currency(self, field: StringField) -> None:
        """An ISO 4217 currency code."""
        if field.data and not is_known_currency(field.data):
            raise ValidationError(
                f"{field.data} is not a currency code we know. Use three letters like "
                "USD, EUR or GBP."
            )

    def settings(self) -> WorkspaceSettings:
        """The settings as typed, for the domain to check and apply."""
        return WorkspaceSettings(
            name=self.name.data or "",
            slug=self.slug.data or "",
            mode=self.mode.data,
            time_zone=self.time_zone.data or "",
            week_start=self.week_start.data,
            fiscal_year_start_month=self.fiscal_year_start_month.data,
            currency=self.currency.data or "",
        )


class NewWorkspaceForm(WorkspaceForm):
    """A new workspace: the address may be left blank and is then made from the name."""

    slug = StringField(
        "Address",
        filters=[lower],
        description="Leave blank to make one from the name. Lowercase letters, digits and dashes.",
        render_kw={"spellcheck": "false", "autocapitalize": "none", "maxlength": 64},
    )

    def settings(self) -> WorkspaceSettings:
        """The settings as typed, with an address made from the name when left blank."""
        settings = super().settings()
        if not settings.slug:
            settings.slug = suggest_slug(settings.name)
        return settings


def ascii_slug(text: str) -> str:
    """A slug with accents folded rather than dropped: 'Café Ünïon' -> 'cafe-union'."""
    return slugify(unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode())


def suggest_slug(name: str) -> str:
    """A free address made from the name: acme, then acme-2, acme-3…"""
    base = ascii_slug(name)
    candidate, n = base, 1
    while slug_taken(candidate) and n < 100:
        n += 1
        candidate = f"{base[: 64 - len(str(n)) - 1]}-{n}"
    return candidate


class DeleteWorkspaceForm(FlaskForm):
    """Deleting asks for the workspace's address, typed, so it is never a slip."""

    confirm_slug = StringField(
        "Type the workspace's address to confirm",
        validators=[InputRequired("Type the address to confirm.")],
        filters=[strip],
        render_kw={"spellcheck": "false", "autocomplete": "off", "autocapitalize": "none"},
    )

    def __init__(self, slug: str, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.expected_slug = slug

    def validate_confirm_slug(self, field: StringField) -> None:
        """The typed address must be this workspace's, exactly."""
        if field.data != self.expected_slug:
            raise ValidationError(
                f"That is not this workspace's address. Type {self.expected_slug} exactly."
            )
