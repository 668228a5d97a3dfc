"""The workspace document (`strategy-hub/v1`): export, validate and import, all or nothing.

A document is plain JSON (PRODUCT.md §4). Reading it is strict: every field is checked
for its type and its rules, every reference (goal title, cycle name, member email, KPI
key) must resolve, and every problem is reported as "path: reason". Only a document
without problems is built, through the same operations the web forms use, inside the
caller's transaction (flush, never commit).

Fields beyond PRODUCT.md's list, so that export → import → export loses nothing:
`members[].name` (used only when the person has no account yet), `kpis[].description`,
`archived` on goals, KPIs and initiatives, and `final_score` / `final_score_manual` on
initiatives. Lists keep their order (it becomes the order on the plan pages). Fields
with a sensible default may be left out of a hand-written document; export writes all.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from hub.domain import accounts
from hub.domain.errors import DomainError, Invalid
from hub.domain.numbers import checked_decimal
from hub.domain.periods import WEEKDAYS, Cadence, PeriodError, parse_period
from hub.domain.plan import (
    CADENCES,
    CYCLE_NAME_LENGTH,
    TITLE_LENGTH,
    CycleFields,
    GoalFields,
    InitiativeFields,
    KeyResultFields,
    KpiFields,
    create_cycle,
    create_goal,
    create_initiative,
    create_key_result,
    create_kpi,
)
from hub.domain.values import MAX_NOTE, set_value
from hub.domain.workspaces import (
    WorkspaceSettings,
    add_member,
    create_workspace,
    memberships,
    settings_of,
    slug_taken,
)
from hub.extensions import db
from hub.models import (
    Cycle,
    CycleState,
    Goal,
    Initiative,
    KeyResult,
    Kpi,
    KpiValue,
    Mode,
    Role,
    User,
    Workspace,
)
from hub.models.base import canonical_decimal

FORMAT = "strategy-hub/v1"
DESCRIPTION_LENGTH = 10_000
NAME_LENGTH = 120
WORD_LENGTH = 64  # slugs, time zones and the other single words of the settings
KEY_LENGTH = 20
PERIOD_LENGTH = 16
EMAIL_LENGTH = 254
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ROLES = tuple(role.value for role in reversed(Role))  # owner first
INLINE_WIDTH = 96

# The fields of each object, in the order export writes them.
TOP_FIELDS = "format workspace members goals kpis cycles initiatives".split()
WORKSPACE_FIELDS = "slug name mode time_zone week_start fiscal_year_start_month currency".split()
MEMBER_FIELDS = "email role name".split()
GOAL_FIELDS = "title description owner archived".split()
KPI_FIELDS = (
    "key name description goal unit decimals cadence aggregation owner direction "
    "green_min green_max red_min red_max archived values"
).split()
VALUE_FIELDS = "period value note".split()
CYCLE_FIELDS = "name start end state".split()
INITIATIVE_FIELDS = (
    "key title description goal cycle owner start due percent_complete final_score "
    "final_score_manual archived gauges key_results"
).split()
KEY_RESULT_FIELDS = "key title owner start target current unit confidence weight kpi".split()


# --------------------------------------------------------------------------- export


@dataclass(frozen=True)
class _Names:
    """How an exported object names what it refers to: people, goals, cycles, KPIs."""

    emails: dict[int, str]
    goals: dict[int, str]
    cycles: dict[int, str]
    kpis: dict[int, str]

    def email(self, user_id: int | None) -> str | None:
        # Someone no longer a member is not named: a document only names its members.
        return self.emails.get(user_id) if user_id is not None else None


def export_workspace(workspace: Workspace) -> dict[str, Any]:
    """The workspace as a `strategy-hub/v1` document (no ids, timestamps or secrets)."""
    members = memberships(workspace)
    goals = _ordered(Goal, workspace)
    kpis = _ordered(Kpi, workspace)
    cycles = list(
        db.session.scalars(
            select(Cycle)
            .where(Cycle.workspace_id == workspace.id)
            .order_by(Cycle.start, Cycle.name, Cycle.id)
        )
    )
    initiatives = _ordered(
        Initiative, workspace, selectinload(Initiative.gauges), selectinload(Initiative.key_results)
    )
    names = _Names(
        emails={m.user_id: m.user.email for m in members},
        goals={goal.id: goal.title for goal in goals},
        cycles={cycle.id: cycle.name for cycle in cycles},
        kpis={kpi.id: kpi.key for kpi in kpis},
    )
    values = _values_by_kpi(workspace)
    return {
        "format": FORMAT,
        "workspace": _export_settings(workspace),
        "members": [{"email": m.user.email, "role": m.role, "name": m.user.name} for m in members],
        "goals": [_export_goal(goal, names) for goal in goals],
        "kpis": [_export_kpi(kpi, values[kpi.id], names) for kpi in kpis],
        "cycles": [_export_cycle(cycle) for cycle in cycles],
        "initiatives": [_export_initiative(initiative, names) for initiative in initiatives],
    }


def _ordered(model: type[Any], workspace: Workspace, *options: Any) -> list[Any]:
    query = select(model).where(model.workspace_id == workspace.id)
    return list(db.session.scalars(query.options(*options).order_by(model.position, model.id)))


def _values_by_kpi(workspace: Workspace) -> dict[int, list[KpiValue]]:
    values: dict[int, list[KpiValue]] = defaultdict(list)
    rows = db.session.scalars(
        select(KpiValue)
        .join(Kpi)
        .where(Kpi.workspace_id == workspace.id)
        .order_by(KpiValue.kpi_id, KpiValue.period_start)
    )
    for row in rows:
        values[row.kpi_id].append(row)
    return values


def _export_settings(workspace: Workspace) -> dict[str, Any]:
    settings = settings_of(workspace)
    return {name: getattr(settings, name) for name in WORKSPACE_FIELDS}


def _export_goal(goal: Goal, names: _Names) -> dict[str, Any]:
    return {
        "title": goal.title,
        "description": goal.description,
        "owner": names.email(goal.owner_id),
        "archived": goal.archived_at is not None,
    }


def _export_kpi(kpi: Kpi, values: list[KpiValue], names: _Names) -> dict[str, Any]:
    return {
        "key": kpi.key,
        "name": kpi.name,
        "description": kpi.description,
        "goal": names.goals.get(kpi.goal_id) if kpi.goal_id else None,
        "unit": kpi.unit,
        "decimals": kpi.decimals,
        "cadence": kpi.cadence,
        "aggregation": kpi.aggregation,
        "owner": names.email(kpi.owner_id),
        "direction": kpi.direction,
        "green_min": _number(kpi.green_min),
        "green_max": _number(kpi.green_max),
        "red_min": _number(kpi.red_min),
        "red_max": _number(kpi.red_max),
        "archived": kpi.archived_at is not None,
        "values": [
            {"period": row.period_key, "value": _number(row.value), "note": row.note}
            for row in values
        ],
    }


def _export_cycle(cycle: Cycle) -> dict[str, Any]:
    return {
        "name": cycle.name,
        "start": cycle.start.isoformat(),
        "end": cycle.end.isoformat(),
        "state": cycle.state,
    }


def _export_initiative(initiative: Initiative, names: _Names) -> dict[str, Any]:
    key_results = sorted(initiative.key_results, key=lambda kr: (kr.position, kr.id))
    return {
        "key": initiative.key,
        "title": initiative.title,
        "description": initiative.description,
        "goal": names.goals.get(initiative.goal_id) if initiative.goal_id else None,
        "cycle": names.cycles.get(initiative.cycle_id) if initiative.cycle_id else None,
        "owner": names.email(initiative.owner_id),
        "start": _day(initiative.start_date),
        "due": _day(initiative.due_date),
        "percent_complete": _number(initiative.percent_complete),
        "final_score": _number(initiative.final_score),
        "final_score_manual": initiative.final_score_manual,
        "archived": initiative.archived_at is not None,
        "gauges": sorted((kpi.key for kpi in initiative.gauges), key=natural_key),
        "key_results": [_export_key_result(kr, names) for kr in key_results],
    }


def _export_key_result(kr: KeyResult, names: _Names) -> dict[str, Any]:
    return {
        "key": kr.key,
        "title": kr.title,
        "owner": names.email(kr.owner_id),
        "start": _number(kr.start_value),
        "target": _number(kr.target_value),
        "current": _number(kr.current_value),
        "unit": kr.unit,
        "confidence": kr.confidence,
        "weight": _number(kr.weight),
        "kpi": names.kpis.get(kr.kpi_id) if kr.kpi_id else None,
    }


def _number(value: Decimal | None) -> Decimal | None:
    return None if value is None else canonical_decimal(value)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def natural_key(key: str) -> tuple[Any, ...]:
    """A sort key that puts K2 before K10."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key))


# ----------------------------------------------------------------------------- JSON


def document_json(document: Any) -> str:
    """The document as pretty JSON: 2-space indent, fields in document order, exact numbers.

    Decimals are written as JSON numbers in their shortest exact form (integers without a
    point), never through float. An object or list of scalars that fits on one line is
    written on one line, so a KPI's values read one per line.
    """
    return _encode(document, 0) + "\n"


def parse_document_json(text: str) -> Any:
    """Parse JSON with every fraction as an exact Decimal; DomainError saying where it breaks."""
    try:
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_unique_fields)
    except json.JSONDecodeError as error:
        raise DomainError(
            f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except RecursionError:
        raise DomainError("Not valid JSON: nested too deeply") from None
    except ValueError as error:  # a repeated field, or an integer of over 4300 digits
        raise DomainError(f"Not valid JSON: {error}") from None


def _unique_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse an object naming a field twice, which JSON parsers silently let the last win."""
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise ValueError(f"the field {name[:60]!r} appears twice in one object")
        found[name] = value
    return found


def _encode(value: Any, depth: int) -> str:
    if isinstance(value, dict | list):
        return _encode_container(value, depth)
    if value is None or isinstance(value, bool | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite():
        return format(canonical_decimal(value), "f")
    raise TypeError(f"cannot write {value!r} into a document")


def _encode_container(value: dict[str, Any] | list[Any], depth: int) -> str:
    if isinstance(value, dict):
        brackets = "{}"
        members = list(value.values())
        parts = [f"{_encode(k, depth)}: {_encode(v, depth + 1)}" for k, v in value.items()]
    else:
        brackets, members = "[]", value
        parts = [_encode(item, depth + 1) for item in value]
    one_line = brackets[0] + ", ".join(parts) + brackets[1]
    nested = any(isinstance(member, dict | list) for member in members)
    if not parts or (not nested and 2 * depth + len(one_line) <= INLINE_WIDTH):
        return one_line
    pad = "  " * (depth + 1)
    return f"{brackets[0]}\n{pad}" + f",\n{pad}".join(parts) + f"\n{'  ' * depth}{brackets[1]}"


# --------------------------------------------------------------------------- reading

_MISSING: Any = object()
_T = TypeVar("_T")


class _Reader:
    """One JSON object of the document: reads its fields strictly, noting each problem.

    A field with a problem is remembered in `bad`, and a stand-in value of the right type
    takes its place, so the rules still run on the other fields without reporting the
    same field twice.
    """

    def __init__(self, raw: Any, path: str, problems: list[str], fields: Iterable[str]):
        self.path = path
        self.problems = problems
        self.bad: set[str] = set()
        self.ok = isinstance(raw, dict)
        self.data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if not self.ok and raw is not _MISSING:  # a missing object is already reported
            problems.append(f"{path or 'document'}: expected an object, not {_kind(raw)}")
        known = set(fields)
        for name in self.data:  # in the document's order, so messages come out stably
            if name not in known:
                self.note(str(name)[:60], "unknown field")

    def where(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def note(self, name: str, reason: str) -> None:
        self.bad.add(name)
        self.problems.append(f"{self.where(name)}: {reason}")

    def rules(self, found: Iterable[str]) -> None:
        """Add rule problems ('field: reason') except those about fields already reported."""
        for problem in found:
            if problem.split(":", 1)[0] not in self.bad:
                self.problems.append(self.where(problem))

    def raw(self, name: str, default: Any = _MISSING) -> Any:
        """The field as parsed; a missing field without a default is reported as required."""
        if name in self.data:
            return self.data[name]
        if default is _MISSING:
            self.note(name, "required")
        return default

    def text(self, name: str, default: Any = _MISSING, *, max_length: int | None = None) -> str:
        """A one-line text, trimmed; '' stands in when it is wrong."""
        value = self._text(name, default, nullable=False, max_length=max_length)
        return value if value is not None else ""

    def optional_text(self, name: str, *, max_length: int | None = None) -> str | None:
        """A one-line text, trimmed, or null (the default)."""
        return self._text(name, None, nullable=True, max_length=max_length)

    def _text(
        self, name: str, default: Any, *, nullable: bool, max_length: int | None
    ) -> str | None:
        raw = self.raw(name, default)
        if raw is _MISSING or (raw is None and nullable):
            return None
        problem = text_problem(raw, max_length)
        if problem:
            self.note(name, problem)
            return None
        return raw.strip()

    def long_text(self, name: str) -> str:
        """A multi-line text such as a description (default '')."""
        raw = self.raw(name, "")
        problem = text_problem(raw, DESCRIPTION_LENGTH)
        if problem:
            self.note(name, problem)
            return ""
        return raw

    def email(self, name: str, *, nullable: bool = False) -> str | None:
        """A normalised (lower-cased) email address."""
        raw = self._text(
            name, None if nullable else _MISSING, nullable=nullable, max_length=EMAIL_LENGTH
        )
        if raw is None:
            return None
        try:
            return accounts.normalize_email(raw)
        except DomainError as error:
            self.note(name, error.message)
            return None

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        """One of the lower-case words in `choices` (required)."""
        value = self.text(name)
        if name not in self.bad and value not in choices:
            self.note(name, f"must be one of {', '.join(choices)}, not {_shown(value)}")
        return value

    def integer(self, name: str, default: int) -> int:
        """A whole number: not a boolean, not 2.0; `default` stands in when it is wrong."""
        raw = self.raw(name, default)
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        self.note(name, f"must be a whole number, not {_kind(raw)}")
        return default

    def boolean(self, name: str, default: bool = False) -> bool:
        """true or false."""
        raw = self.raw(name, default)
        if isinstance(raw, bool):
            return raw
        self.note(name, f"must be true or false, not {_kind(raw)}")
        return default

    def number(self, name: str, default: Any = _MISSING) -> Decimal:
        """An exact number; 0 stands in when it is wrong."""
        value = self._number(name, default, nullable=False)
        return value if value is not None else Decimal(0)

    def optional_number(self, name: str) -> Decimal | None:
        """An exact number, or null (the default) for none or an open bound."""
        return self._number(name, None, nullable=True)

    def _number(self, name: str, default: Any, *, nullable: bool) -> Decimal | None:
        raw = self.raw(name, default)
        if raw is _MISSING or (raw is None and nullable):
            return None
        try:
            return strict_decimal(raw)
        except ValueError as error:
            self.note(name, str(error))
            return None

    def day(self, name: str, *, nullable: bool = False) -> date | None:
        """An ISO date (YYYY-MM-DD), or null when `nullable`."""
        raw = self.raw(name, None if nullable else _MISSING)
        if raw is _MISSING or (raw is None and nullable):
            return None
        if isinstance(raw, str) and ISO_DATE.fullmatch(raw):
            try:
                return date.fromisoformat(raw)
            except ValueError:
                pass  # e.g. 2026-02-30: reported below
        self.note(name, f"must be an ISO date like 2026-10-01, not {_kind(raw)}")
        return None

    def items(self, name: str) -> list[Any]:
        """A JSON array (default empty)."""
        raw = self.raw(name, [])
        if isinstance(raw, list):
            return raw
        self.note(name, f"must be a list, not {_kind(raw)}")
        return []

    def each(self, name: str, read: Callable[[Any, str, list[str]], Any]) -> list[Any]:
        """Each entry of a list field read by `read`; entries that are not objects drop out."""
        entries = (
            read(raw, self.where(f"{name}[{i}]"), self.problems)
            for i, raw in enumerate(self.items(name))
        )
        return [entry for entry in entries if entry is not None]


def text_problem(raw: Any, max_length: int | None) -> str | None:
    """Why a JSON value is not acceptable text, or None."""
    if not isinstance(raw, str):
        return f"must be text, not {_kind(raw)}"
    if "\x00" in raw:
        return "must not contain NUL characters"
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it holds a lone surrogate)"
    if max_length is not None and len(raw.strip()) > max_length:
        return f"at most {max_length} characters ({len(raw.strip())} given)"
    return None


def strict_decimal(raw: Any) -> Decimal:
    """A JSON number as an exact Decimal, or ValueError: text, booleans, NaN, ±Infinity."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        raise ValueError(f"must be a number, not {_kind(raw)}")
    finite = raw.is_finite() if isinstance(raw, Decimal) else math.isfinite(raw)
    if not finite:
        raise ValueError(f"must be a finite number, not {raw}")
    return checked_decimal(raw, what="the number")


def _kind(raw: Any) -> str:
    """How a JSON value looks, for messages: text 'abc', true, a list, the number 12…"""
    if raw is None or raw is _MISSING:
        return "null"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return f"text {_shown(raw)}"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, dict):
        return "an object"
    try:
        shown = str(raw)
    except ValueError:  # an integer too long to print
        shown = "with thousands of digits"
    return f"the number {shown[:40]}"


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


# -------------------------------------------------------------- the parsed document


@dataclass
class _Member:
    path: str
    email: str | None
    role: str
    name: str


@dataclass
class _Goal:
    path: str
    fields: GoalFields
    owner: str | None


@dataclass
class _Value:
    path: str
    period: str
    value: Decimal
    note: str


@dataclass
class _Kpi:
    path: str
    fields: KpiFields
    goal: str | None
    owner: str | None
    values: list[_Value]


@dataclass
class _Cycle:
    path: str
    fields: CycleFields


@dataclass
class _KeyResult:
    path: str
    fields: KeyResultFields
    owner: str | None
    kpi: str | None


@dataclass
class _Initiative:
    path: str
    fields: InitiativeFields
    goal: str | None
    cycle: str | None
    owner: str | None
    gauges: list[tuple[str, str]]  # (path, KPI key)
    key_results: list[_KeyResult]


@dataclass
class _Document:
    """A document as read: typed fields plus the references still to resolve."""

    settings: WorkspaceSettings
    calendar_ok: bool = False  # week start and fiscal year are sound, so periods can be read
    members: list[_Member] = field(default_factory=list)
    goals: list[_Goal] = field(default_factory=list)
    kpis: list[_Kpi] = field(default_factory=list)
    cycles: list[_Cycle] = field(default_factory=list)
    initiatives: list[_Initiative] = field(default_factory=list)


def _read_document(raw: Any, slug: str | None, problems: list[str]) -> _Document:
    """Read the whole document, noting every problem of type or rule (not of reference)."""
    top = _Reader(raw, "", problems, TOP_FIELDS)
    if not top.ok:
        return _Document(WorkspaceSettings(name="", slug=""))
    fmt = top.raw("format")
    if fmt is not _MISSING and fmt != FORMAT:
        top.note("format", f"expected {FORMAT!r}, not {_kind(fmt)}")
    settings, calendar_ok = _read_settings(top.raw("workspace"), slug, problems)
    return _Document(
        settings=settings,
        calendar_ok=calendar_ok,
        members=top.each("members", _read_member),
        goals=top.each("goals", _read_goal),
        kpis=top.each("kpis", _read_kpi),
        cycles=top.each("cycles", _read_cycle),
        initiatives=top.each("initiatives", _read_initiative),
    )


def _read_settings(
    raw: Any, slug: str | None, problems: list[str]
) -> tuple[WorkspaceSettings, bool]:
    """The workspace's settings (`slug` replaces the document's), and if its calendar is sound."""
    obj = _Reader(raw, "workspace", problems, WORKSPACE_FIELDS)
    if not obj.ok:
        return WorkspaceSettings(name="", slug=slug or ""), False
    if slug is not None:
        obj.optional_text("slug", max_length=WORD_LENGTH)  # replaced, but must still be text
        document_slug = None
    else:
        document_slug = obj.text("slug", max_length=WORD_LENGTH)
    settings = WorkspaceSettings(
        name=obj.text("name"),
        slug=slug if slug is not None else document_slug or "",
        # Short caps on words, so a huge string is never echoed back in a message.
        mode=obj.text("mode", Mode.BOTH.value, max_length=WORD_LENGTH),
        time_zone=obj.text("time_zone", "UTC", max_length=WORD_LENGTH),
        week_start=obj.text("week_start", "monday", max_length=WORD_LENGTH),
        fiscal_year_start_month=obj.integer("fiscal_year_start_month", 1),
        currency=obj.text("currency", "USD", max_length=WORD_LENGTH),
    )
    found = settings.problems()
    obj.rules(found)
    calendar = ("week_start", "fiscal_year_start_month")
    calendar_ok = not obj.bad & set(calendar) and not any(
        problem.startswith(calendar) for problem in found
    )
    return settings, calendar_ok


def _read_member(raw: Any, path: str, problems: list[str]) -> _Member | None:
    obj = _Reader(raw, path, problems, MEMBER_FIELDS)
    if not obj.ok:
        return None
    return _Member(
        path=path,
        email=obj.email("email"),
        role=obj.choice("role", ROLES),
        name=obj.text("name", "", max_length=NAME_LENGTH),
    )


def _read_goal(raw: Any, path: str, problems: list[str]) -> _Goal | None:
    obj = _Reader(raw, path, problems, GOAL_FIELDS)
    if not obj.ok:
        return None
    fields = GoalFields(
        title=obj.text("title", max_length=TITLE_LENGTH),
        description=obj.long_text("description"),
        archived=obj.boolean("archived"),
    )
    owner = obj.email("owner", nullable=True)
    obj.rules(fields.problems())
    return _Goal(path, fields, owner)


def _read_kpi(raw: Any, path: str, problems: list[str]) -> _Kpi | None:
    obj = _Reader(raw, path, problems, KPI_FIELDS)
    if not obj.ok:
        return None
    fields = KpiFields(
        key=obj.text("key", max_length=KEY_LENGTH),
        name=obj.text("name", max_length=TITLE_LENGTH),
        description=obj.long_text("description"),
        unit=obj.text("unit", "number"),
        decimals=obj.integer("decimals", 0),
        cadence=obj.text("cadence", Cadence.WEEKLY.value),
        aggregation=obj.text("aggregation", "last"),
        direction=obj.text("direction", "up"),
        green_min=obj.optional_number("green_min"),
        green_max=obj.optional_number("green_max"),
        red_min=obj.optional_number("red_min"),
        red_max=obj.optional_number("red_max"),
        archived=obj.boolean("archived"),
    )
    goal = obj.optional_text("goal", max_length=TITLE_LENGTH)
    owner = obj.email("owner", nullable=True)
    values = obj.each("values", _read_value)
    obj.rules(fields.problems())
    return _Kpi(path, fields, goal, owner, values)


def _read_value(raw: Any, path: str, problems: list[str]) -> _Value | None:
    obj = _Reader(raw, path, problems, VALUE_FIELDS)
    if not obj.ok:
        return None
    period, value = obj.text("period", max_length=PERIOD_LENGTH), obj.number("value")
    note = obj.text("note", "", max_length=MAX_NOTE)
    # A value with a bad number still has its period checked against the KPI's cadence.
    return None if "period" in obj.bad else _Value(path, period, value, note)


def _read_cycle(raw: Any, path: str, problems: list[str]) -> _Cycle | None:
    obj = _Reader(raw, path, problems, CYCLE_FIELDS)
    if not obj.ok:
        return None
    name = obj.text("name", max_length=CYCLE_NAME_LENGTH)
    start, end = obj.day("start"), obj.day("end")
    # A broken date stands in as the other one, so "end before start" is never a ghost.
    start = start or end or date.min
    fields = CycleFields(
        name=name, start=start, end=end or start, state=obj.text("state", CycleState.DRAFT)
    )
    obj.rules(fields.problems())
    return _Cycle(path, fields)


def _read_initiative(raw: Any, path: str, problems: list[str]) -> _Initiative | None:
    obj = _Reader(raw, path, problems, INITIATIVE_FIELDS)
    if not obj.ok:
        return None
    fields = InitiativeFields(
        key=obj.text("key", max_length=KEY_LENGTH),
        title=obj.text("title", max_length=TITLE_LENGTH),
        description=obj.long_text("description"),
        start=obj.day("start", nullable=True),
        due=obj.day("due", nullable=True),
        percent_complete=obj.optional_number("percent_complete"),
        final_score=obj.optional_number("final_score"),
        final_score_manual=obj.boolean("final_score_manual"),
        archived=obj.boolean("archived"),
    )
    goal = obj.optional_text("goal", max_length=TITLE_LENGTH)
    cycle = obj.optional_text("cycle", max_length=CYCLE_NAME_LENGTH)
    owner = obj.email("owner", nullable=True)
    gauges = _read_gauges(obj)
    key_results = obj.each("key_results", _read_key_result)
    obj.rules(fields.problems())
    return _Initiative(path, fields, goal, cycle, owner, gauges, key_results)


def _read_gauges(obj: _Reader) -> list[tuple[str, str]]:
    gauges = []
    for i, raw in enumerate(obj.items("gauges")):
        path = obj.where(f"gauges[{i}]")
        problem = text_problem(raw, KEY_LENGTH)
        if problem:
            obj.problems.append(f"{path}: {problem}")
        else:
            gauges.append((path, raw.strip()))
    return gauges


def _read_key_result(raw: Any, path: str, problems: list[str]) -> _KeyResult | None:
    obj = _Reader(raw, path, problems, KEY_RESULT_FIELDS)
    if not obj.ok:
        return None
    fields = KeyResultFields(
        key=obj.text("key", max_length=KEY_LENGTH),
        title=obj.text("title", max_length=TITLE_LENGTH),
        start=obj.number("start"),
        target=obj.number("target"),
        current=obj.optional_number("current"),
        unit=obj.text("unit", "number"),
        confidence=obj.integer("confidence", 5),
        weight=obj.number("weight", Decimal(1)),
    )
    owner = obj.email("owner", nullable=True)
    kpi = obj.optional_text("kpi", max_length=KEY_LENGTH)
    if obj.bad & {"start", "target"}:
        obj.bad.add("target")  # "target equals start" would compare with a stand-in
    obj.rules(fields.problems())
    return _KeyResult(path, fields, owner, kpi)


# ---------------------------------------------------------------- cross-references


def _reference_problems(doc: _Document, importer: User | None) -> list[str]:
    """Problems between entries: duplicates, and references that do not resolve."""
    found: list[str] = []
    people = _member_problems(doc, importer, found)
    goals = _unique(found, [(g.path, g.fields.title) for g in doc.goals], "title", "goal title")
    kpis = _unique(found, [(k.path, k.fields.key or "") for k in doc.kpis], "key", "key")
    cycles = _unique(found, [(c.path, c.fields.name) for c in doc.cycles], "name", "cycle name")
    _unique(found, [(i.path, i.fields.key or "") for i in doc.initiatives], "key", "key")
    krs = [kr for initiative in doc.initiatives for kr in initiative.key_results]
    _unique(found, [(kr.path, kr.fields.key or "") for kr in krs], "key", "key")

    def check(path: str, name: str, value: str | None, known: set[str], what: str) -> None:
        if value is not None and value not in known:
            found.append(f"{path}.{name}: {what} {value!r}")

    for entry in [*doc.goals, *doc.kpis, *doc.initiatives, *krs]:
        check(entry.path, "owner", entry.owner, people, "not listed in members:")
    for entry in [*doc.kpis, *doc.initiatives]:
        check(entry.path, "goal", entry.goal, goals, "no goal titled")
    for initiative in doc.initiatives:
        check(initiative.path, "cycle", initiative.cycle, cycles, "no cycle named")
        found += _gauge_problems(initiative, kpis)
    for kr in krs:
        check(kr.path, "kpi", kr.kpi, kpis, "no KPI with key")
    found += _active_cycle_problems(doc.cycles)
    return found


def _member_problems(doc: _Document, importer: User | None, found: list[str]) -> set[str]:
    """Duplicate members and a missing owner; returns the emails that owners may use."""
    people = _unique(found, [(m.path, m.email or "") for m in doc.members], "email", "member")
    if importer is not None:
        people.add(importer.email)  # the importer joins as an owner
    elif not any(member.role == Role.OWNER.value for member in doc.members):
        found.append("members: list at least one member with the role owner")
    return people


def _gauge_problems(initiative: _Initiative, kpis: set[str]) -> list[str]:
    found, seen = [], set()
    for path, key in initiative.gauges:
        if key not in kpis:
            found.append(f"{path}: no KPI with key {key!r}")
        elif key in seen:
            found.append(f"{path}: {key} is listed twice")
        seen.add(key)
    return found


def _active_cycle_problems(cycles: list[_Cycle]) -> list[str]:
    active = [cycle for cycle in cycles if cycle.fields.state == CycleState.ACTIVE]
    return [
        f"{cycle.path}.state: only one cycle can be active ({active[0].fields.name!r} is too)"
        for cycle in active[1:]
    ]


def _unique(found: list[str], entries: list[tuple[str, str]], name: str, what: str) -> set[str]:
    """Report identifiers that repeat, ignoring case (they would be ambiguous); return them."""
    seen: set[str] = set()
    for path, identifier in entries:
        if identifier and identifier.casefold() in seen:
            found.append(f"{path}.{name}: duplicate {what} {identifier!r}")
        seen.add(identifier.casefold())
    return {identifier for _, identifier in entries if identifier}


def _period_problems(doc: _Document) -> list[str]:
    """Each value's period must be a period key of its KPI's cadence, used at most once."""
    if not doc.calendar_ok:
        return []  # the calendar is reported already, and periods cannot be judged without it
    calendar = {
        "week_start": WEEKDAYS.index(doc.settings.week_start),
        "fy_start_month": doc.settings.fiscal_year_start_month,
    }
    found: list[str] = []
    for kpi in doc.kpis:
        if kpi.fields.cadence not in CADENCES:
            continue
        seen: set[str] = set()
        for value in kpi.values:
            try:
                period = parse_period(value.period, Cadence(kpi.fields.cadence), **calendar)
            except PeriodError as error:
                found.append(f"{value.path}.period: {error}")
                continue
            if period.key in seen:
                found.append(f"{value.path}.period: duplicate period {period.key}")
            seen.add(period.key)
    return found


# ------------------------------------------------------------------ validate, import


def validate_document(
    doc: Any, *, slug: str | None = None, importer: User | None = None
) -> list[str]:
    """Every problem that would stop `doc` from being imported, as 'path: reason'."""
    return _checked(doc, slug, importer)[1]


def import_document(
    doc: Any, *, slug: str | None = None, importer: User | None = None
) -> Workspace:
    """A new workspace built from a document, or Invalid listing every problem.

    `slug` replaces the document's slug; `importer`, when given, joins as an owner and is
    recorded as the author of the imported values. Flushes, never commits: the whole
    import is the caller's one transaction, so on Invalid (even one that only the
    database finds, midway) the caller rolls back and nothing was imported.
    """
    parsed, problems = _checked(doc, slug, importer)
    if problems:
        raise Invalid(problems)
    return _build(parsed, importer)


def _checked(doc: Any, slug: str | None, importer: User | None) -> tuple[_Document, list[str]]:
    problems: list[str] = []
    parsed = _read_document(doc, slug, problems)
    problems += _reference_problems(parsed, importer)
    problems += _period_problems(parsed)
    wanted = parsed.settings.slug
    slug_ok = not any(problem.startswith("workspace.slug:") for problem in problems)
    if wanted and slug_ok and slug_taken(wanted):
        problems.append(f"workspace.slug: {wanted!r} is already taken")
    return parsed, _in_document_order(problems)


def _in_document_order(problems: list[str]) -> list[str]:
    """Problems sorted by where they are (section, then list positions), so that all the
    problems of one entry sit together; problems at the same place keep their order."""
    sections = ["document", *TOP_FIELDS]

    def place(problem: str) -> tuple[int, tuple[int, ...]]:
        path = problem.split(": ", 1)[0]
        section = re.match(r"[a-z_]*", path)
        rank = sections.index(section[0]) if section and section[0] in sections else 0
        return rank, tuple(int(index) for index in re.findall(r"\[(\d+)\]", path))

    return sorted(problems, key=place)


def _build(doc: _Document, importer: User | None) -> Workspace:
    """Create the workspace and everything in it, in document order."""
    with _at("workspace"):
        workspace = create_workspace(doc.settings, owner=None)
    people = _build_members(workspace, doc.members, importer)
    goals: dict[str, Goal] = {}
    for goal in doc.goals:
        with _at(goal.path):
            fields = replace(goal.fields, owner=_ref(people, goal.owner))
            goals[goal.fields.title] = create_goal(workspace, fields)
    kpis = {
        entry.fields.key or "": _build_kpi(workspace, entry, goals, people, importer)
        for entry in doc.kpis
    }
    cycles: dict[str, Cycle] = {}
    for cycle in doc.cycles:
        with _at(cycle.path):
            cycles[cycle.fields.name] = create_cycle(workspace, cycle.fields)
    for entry in doc.initiatives:
        with _at(entry.path):
            fields = replace(
                entry.fields,
                goal=_ref(goals, entry.goal),
                cycle=_ref(cycles, entry.cycle),
                owner=_ref(people, entry.owner),
                gauges=[kpis[key] for _, key in entry.gauges],
            )
            initiative = create_initiative(workspace, fields)
        for kr in entry.key_results:
            with _at(kr.path):
                kr_fields = replace(kr.fields, owner=_ref(people, kr.owner), kpi=_ref(kpis, kr.kpi))
                create_key_result(initiative, kr_fields)
    return workspace


@contextmanager
def _at(path: str) -> Iterator[None]:
    """Report what an operation refuses while building an entry at the entry's path.

    Validation catches every problem known beforehand; this is for what only the
    operations or the database can find (say, a slug taken meanwhile). The caller rolls
    the whole import back.
    """
    try:
        yield
    except Invalid as error:
        raise Invalid([f"{path}.{problem}" for problem in error.problems]) from None
    except DomainError as error:
        where = f"{path}.{error.field}" if error.field else path
        raise Invalid([f"{where}: {error.message}"]) from None
    except IntegrityError:
        raise Invalid([f"{path}: clashes with data saved meanwhile; try again"]) from None


def _build_members(
    workspace: Workspace, members: list[_Member], importer: User | None
) -> dict[str, User]:
    """Everyone listed becomes a member; people without an account get one, passwordless."""
    people: dict[str, User] = {}
    for member in members:
        email = member.email or ""
        with _at(member.path):
            user = accounts.find_user(email) or accounts.create_user(email, name=member.name)
            add_member(workspace, user, Role(member.role))
        people[email] = user
    if importer is not None:
        add_member(workspace, importer, Role.OWNER)
        people[importer.email] = importer
    return people


def _ref(found: dict[str, _T], name: str | None) -> _T | None:
    """What a (validated) reference names, or None for a null reference."""
    return found[name] if name is not None else None


def _build_kpi(
    workspace: Workspace,
    entry: _Kpi,
    goals: dict[str, Goal],
    people: dict[str, User],
    importer: User | None,
) -> Kpi:
    """A KPI and its values, each value through set_value so it enters the history."""
    with _at(entry.path):
        fields = replace(
            entry.fields, goal=_ref(goals, entry.goal), owner=_ref(people, entry.owner)
        )
        kpi = create_kpi(workspace, fields)
    for value in entry.values:
        with _at(value.path):
            set_value(
                kpi, value.period, value.value, source="import", user=importer, note=value.note
            )
    return kpi


# ------------------------------------------------------------------------ summaries


def document_counts(doc: dict[str, Any]) -> dict[str, int]:
    """How many of each thing a valid document holds, labelled for a one-line summary."""
    kpis, initiatives = doc.get("kpis", []), doc.get("initiatives", [])
    return {
        "members": len(doc.get("members", [])),
        "goals": len(doc.get("goals", [])),
        "KPIs": len(kpis),
        "values": sum(len(kpi.get("values", [])) for kpi in kpis),
        "cycles": len(doc.get("cycles", [])),
        "initiatives": len(initiatives),
        "key results": sum(len(i.get("key_results", [])) for i in initiatives),
    }
