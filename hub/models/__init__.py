"""All models, importable from one place (Alembic needs them registered)."""

from hub.models.accounts import ApiToken, User
from hub.models.okr import CheckIn, Cycle, CycleState, Initiative, KeyResult, ProgressUpdate
from hub.models.plan import Goal, Kpi, KpiValue, ValueChange
from hub.models.sync import (
    ImportProblem,
    QuotaWindow,
    RunState,
    SheetConnection,
    SheetState,
    SheetTab,
    SyncConflict,
    SyncRun,
    TabKind,
)
from hub.models.workspace import Invite, Membership, Mode, Role, ShareLink, Workspace

__all__ = [
    "ApiToken",
    "CheckIn",
    "Cycle",
    "CycleState",
    "Goal",
    "ImportProblem",
    "Initiative",
    "Invite",
    "KeyResult",
    "Kpi",
    "KpiValue",
    "Membership",
    "Mode",
    "ProgressUpdate",
    "QuotaWindow",
    "Role",
    "RunState",
    "SheetConnection",
    "SheetState",
    "SheetTab",
    "ShareLink",
    "SyncConflict",
    "SyncRun",
    "TabKind",
    "User",
    "ValueChange",
    "Workspace",
]
