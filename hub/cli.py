"""The `flask --app wsgi hub …` commands.

Each command is one transaction: it commits when everything worked, and otherwise rolls
back and exits with status 1 after saying why (click.ClickException), so a refused
command leaves the database as it was.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import delete, or_, select

from hub.config import cli_base_url
from hub.demo import (
    DEMO_EMAIL,
    DEMO_NAME,
    DEMO_PASSWORD,
    DEMO_SLUG,
    DEMO_TIME_ZONE,
    DEMO_USER_NAME,
    build_demo_document,
)
from hub.domain import accounts, sharing
from hub.domain.documents import (
    document_counts,
    document_json,
    export_workspace,
    import_document,
    parse_document_json,
)
from hub.domain.errors import DomainError, Invalid
from hub.domain.periods import local_today
from hub.extensions import db
from hub.models import RunState, SheetConnection, SyncRun, User, Workspace
from hub.sync import service

hub_cli = AppGroup("hub", help="Strategy Hub commands.")


class Refused(click.ClickException):
    """A command that changed nothing: rolls back, then reports like any ClickException."""

    def __init__(self, message: str) -> None:
        db.session.rollback()
        super().__init__(message)


@hub_cli.command("demo")
@click.option(
    "--if-missing", is_flag=True, help="Only create the demo when there is none yet (make run)."
)
def demo_command(if_missing: bool) -> None:
    """(Re)create the demo workspace `demo` and its login."""
    existing = _workspace(DEMO_SLUG)
    if existing is not None and if_missing:
        click.echo(f"The demo workspace {DEMO_SLUG!r} is already there (`hub demo` rebuilds it).")
    else:
        if existing is not None:
            _purge_workspace(existing)
        _demo_user()
        try:
            import_document(build_demo_document(local_today(DEMO_TIME_ZONE)))
        except Invalid as error:  # only a bug in hub/demo.py can get here
            raise Refused(_problems("The demo was not created", error.problems)) from None
        db.session.commit()
        click.echo(f"Created the demo workspace {DEMO_SLUG!r} ({DEMO_NAME}).")
    click.echo(f"Open {_workspace_url(DEMO_SLUG)}")
    click.echo(f"Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")


def _demo_user() -> User:
    """The demo login, with the published password (reset if someone changed it)."""
    user = accounts.find_user(DEMO_EMAIL)
    if user is None:
        return accounts.create_user(DEMO_EMAIL, DEMO_PASSWORD, DEMO_USER_NAME)
    accounts.set_password(user, DEMO_PASSWORD)
    return user


def _purge_workspace(workspace: Workspace) -> None:
    """Delete a workspace and every row that hangs from it, children first.

    The schema says ON DELETE CASCADE, but SQLite only honours that with
    `PRAGMA foreign_keys=ON`, which the app does not set; SQLite also reuses the id of
    a deleted last row, so leftovers would reappear in the recreated demo. Deleting
    explicitly, guided by the cascading foreign keys, works on every database.
    """
    tables = db.metadata.sorted_tables  # parents before children
    scoped = {}
    for table in tables:
        if table.name == Workspace.__tablename__:
            scoped[table] = table.c.id == workspace.id
            continue
        links = [
            fk.parent.in_(select(fk.column).where(scoped[fk.column.table]))
            for fk in table.foreign_keys
            if fk.ondelete == "CASCADE" and fk.column.table in scoped
        ]
        if links:
            scoped[table] = or_(*links)
    for table in reversed(tables):
        if table in scoped:
            db.session.execute(delete(table).where(scoped[table]))
    db.session.expunge_all()  # nothing loaded may outlive the rows just deleted


@hub_cli.command("create-user")
@click.argument("email")
@click.option("--password", help="The password (asked for, hidden, when not given).")
@click.option("--name", default="", help="The name shown beside what the person owns.")
def create_user_command(email: str, password: str | None, name: str) -> None:
    """Create an account (or set the first password of an imported, passwordless one)."""
    try:
        email = accounts.normalize_email(email)
    except DomainError as error:
        raise Refused(error.message) from None
    user = accounts.find_user(email)
    if user is not None and user.password_hash is not None:
        raise Refused(f"An account for {email} already exists.")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = accounts.password_problem(password)
    if problem:
        raise Refused(f"Password refused: {problem}")
    if user is None:
        accounts.create_user(email, password, name)
        done = f"Created the account {email}."
    else:  # a member imported from a document, or invited, who never set a password
        accounts.set_password(user, password)
        user.name = user.name or name.strip()[:120]
        done = f"Set the password of {email}, who had an account without one."
    db.session.commit()
    click.echo(done)


@hub_cli.command("token")
@click.argument("email")
def token_command(email: str) -> None:
    """Print a new personal API token for EMAIL (shown once; only its hash is kept)."""
    user = accounts.find_user(email)
    if user is None:
        raise Refused(
            f"There is no account for {email.strip()!r}. "
            f"Create it first: flask --app wsgi hub create-user {email.strip()}"
        )
    token = accounts.issue_api_token(user, name="command line")
    db.session.commit()
    click.echo(token)


@hub_cli.command("export")
@click.argument("slug")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
def export_command(slug: str, output: Path | None) -> None:
    """Write workspace SLUG as a strategy-hub/v1 document (JSON)."""
    workspace = _workspace(slug)
    if workspace is None:
        raise Refused(f"There is no workspace {slug!r}.")
    text = document_json(export_workspace(workspace))
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise Refused(f"Could not write {output}: {error.strerror or error}") from None
        click.echo(f"Wrote {slug} to {output}.", err=True)


@hub_cli.command("import")
# utf-8-sig: a byte-order mark, as some Windows editors write, is not part of the JSON.
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--slug", help="Create the workspace under this slug instead of the document's.")
def import_command(file: IO[str], slug: str | None) -> None:
    """Create a workspace from a strategy-hub/v1 document FILE ('-' reads standard input).

    An invalid document is refused whole, listing every problem; nothing is imported.
    """
    name = getattr(file, "name", "<stdin>")  # standard input re-decoded has no name
    try:
        text = file.read()
    except UnicodeDecodeError:
        raise Refused(f"{name} is not UTF-8 text.") from None
    try:
        doc = parse_document_json(text)
        workspace = import_document(doc, slug=slug)
    except Invalid as error:
        raise Refused(_problems(f"{name} was not imported", error.problems)) from None
    except DomainError as error:
        raise Refused(f"{name} was not imported. {error.message}") from None
    db.session.commit()
    counts = ", ".join(_count(n, label) for label, n in document_counts(doc).items())
    click.echo(f"Imported {workspace.name!r} as {workspace.slug}: {counts}.")


@hub_cli.command("share")
@click.argument("slug")
@click.option("--label", default="", help="A label to recognise the link by in the app.")
@click.option(
    "--days",
    type=click.IntRange(1, sharing.MAX_DAYS),
    help="Expire the link after this many days (default: never, until revoked).",
)
def share_command(slug: str, label: str, days: int | None) -> None:
    """Print a new read-only scorecard link for workspace SLUG (no login needed to open it)."""
    workspace = _workspace(slug)
    if workspace is None:
        raise Refused(f"There is no workspace {slug!r}.")
    try:
        _, token = sharing.create_share_link(workspace, None, label=label, days=days)
    except DomainError as error:
        db.session.rollback()
        raise Refused(error.message) from None
    db.session.commit()
    click.echo(f"{cli_base_url(current_app.config)}/s/{token}")
    lasts = f"expires in {days} day{'s' if days != 1 else ''}" if days else "never expires"
    click.echo(
        f"Anyone with this link can read the {workspace.name} scorecard; it {lasts}. "
        "Revoke it on the scorecard page.",
        err=True,
    )


@hub_cli.command("connect-sheet")
@click.argument("slug")
@click.argument("sheet", metavar="SPREADSHEET_ID_OR_URL")
def connect_sheet_command(slug: str, sheet: str) -> None:
    """Connect workspace SLUG to a Google Sheet and fill it, now (share the sheet with the
    service account as Editor first)."""
    workspace = _workspace(slug)
    if workspace is None:
        raise Refused(f"There is no workspace {slug!r}.")
    try:
        run = service.connect(workspace, sheet, user=None)
    except Invalid as error:
        reasons = "; ".join(problem.removeprefix("sheet: ") for problem in error.problems)
        raise Refused(f"{sheet!r} is not a Google Sheet address or id: {reasons}.") from None
    except DomainError as error:  # service.SheetError: Google refused, the message says why
        raise Refused(error.message) from None
    db.session.commit()
    connection = service.connection_of(workspace)
    if connection is not None:
        click.echo(f"Connected {slug} to the sheet {connection.title!r}: {connection.url}")
        click.echo("Tabs: " + ", ".join(tab.title for tab in connection.tabs))
    click.echo(f"First sync: {_run_line(run)}")
    if run.state == RunState.FAILED:
        raise click.exceptions.Exit(1)


@hub_cli.command("sync")
@click.argument("slug", required=False)
def sync_command(slug: str | None) -> None:
    """Sync workspace SLUG (or every connected one) with its Google Sheet, now."""
    if slug is None:
        workspaces = list(
            db.session.scalars(
                select(Workspace)
                .join(SheetConnection, SheetConnection.workspace_id == Workspace.id)
                .order_by(Workspace.slug)
            )
        )
        if not workspaces:
            click.echo("No workspace has a Google Sheet connected.")
            return
    else:
        workspace = _workspace(slug)
        if workspace is None:
            raise Refused(f"There is no workspace {slug!r}.")
        if service.connection_of(workspace) is None:
            raise Refused(
                f"Workspace {slug!r} has no Google Sheet connected. Connect one: "
                f"flask --app wsgi hub connect-sheet {slug} SHEET_URL"
            )
        workspaces = [workspace]
    failed = 0
    for workspace in workspaces:
        run = service.run_sync(workspace.id, trigger="cli")
        click.echo(f"{workspace.slug}: {_run_line(run)}")
        failed += run.state == RunState.FAILED
    if failed:
        click.echo(f"{failed} of {len(workspaces)} syncs failed.", err=True)
        raise click.exceptions.Exit(1)


@hub_cli.command("scheduler")
@click.option("--once", is_flag=True, help="One pass, then exit (to run it from cron).")
def scheduler_command(once: bool) -> None:
    """Start a sync for every connected workspace due one, every 2 seconds.

    Web processes run this scheduler themselves, from their first request on; run it as a
    process of its own when syncs must go on with no visit (after a restart, say).
    """
    from hub.sync import jobs

    while True:
        for run in jobs.tick():
            slug = db.session.scalar(select(Workspace.slug).where(Workspace.id == run.workspace_id))
            click.echo(f"{slug}: {run.trigger} — {_run_line(run)}")
        db.session.remove()
        if once:
            return
        time.sleep(jobs.TICK_SECONDS)


def _run_line(run: SyncRun) -> str:
    """'done — pulled 1, pushed 2, …', with the run's message when it did not finish."""
    line = f"{run.state} — {run.summary()}"
    if run.state in (RunState.FAILED, RunState.PAUSED) and run.message:
        line += f" ({run.message})"
    return line


def _workspace(slug: str) -> Workspace | None:
    return db.session.scalar(select(Workspace).where(Workspace.slug == slug))


def _workspace_url(slug: str) -> str:
    return f"{cli_base_url(current_app.config)}/w/{slug}/"


def _problems(headline: str, problems: list[str]) -> str:
    """The headline, then every problem on a line of its own."""
    fix = "Fix this problem" if len(problems) == 1 else f"Fix these {len(problems)} problems"
    return f"{headline}; nothing was changed. {fix}:\n" + "\n".join(
        f"  {problem}" for problem in problems
    )


def _count(n: int, label: str) -> str:
    """'1 goal', '2 goals', '1 key result', '3 KPIs'."""
    return f"{n} {label if n != 1 else label.removesuffix('s')}"
