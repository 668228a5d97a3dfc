"""The `flask hub …` commands: demo, create-user, token, export, import."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hub.demo import DEMO_EMAIL, DEMO_PASSWORD
from hub.domain import accounts, documents, sharing
from hub.domain.errors import Invalid
from hub.extensions import db
from hub.models import ApiToken, Kpi, KpiValue, Membership, ShareLink, User, Workspace
from tests.test_documents import minimal_document, rich_document, row_counts


def hub(runner, *args: str, **kwargs):
    return runner.invoke(args=["hub", *args], **kwargs)


def workspace(slug: str) -> Workspace | None:
    return db.session.scalar(select(Workspace).where(Workspace.slug == slug))


def test_hub_lists_its_commands(runner):
    result = hub(runner, "--help")
    assert result.exit_code == 0
    for command in ("demo", "create-user", "token", "export", "import"):
        assert command in result.output


# ------------------------------------------------------------------------- demo


def test_demo_creates_the_workspace_and_its_login(runner):
    result = hub(runner, "demo")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/w/demo/" in result.output
    assert "demo@example.com / demo-password-1" in result.output
    demo = workspace("demo")
    assert demo.name == "Northwind Analytics"
    user = accounts.authenticate(DEMO_EMAIL, DEMO_PASSWORD)
    assert user is not None
    role = db.session.scalar(
        select(Membership.role).where(
            Membership.workspace_id == demo.id, Membership.user_id == user.id
        )
    )
    assert role == "owner"


def test_demo_again_rebuilds_it_from_scratch(runner, make):
    assert hub(runner, "demo").exit_code == 0
    counts = row_counts()
    demo = workspace("demo")
    k1 = db.session.scalar(select(Kpi).where(Kpi.workspace_id == demo.id, Kpi.key == "K1"))
    make.value(k1, k1.values[-1].period_key, 1)  # someone played with the demo
    make.kpi(demo, "K99")
    accounts.set_password(accounts.find_user(DEMO_EMAIL), "changed-password-2")
    db.session.commit()

    result = hub(runner, "demo")
    assert result.exit_code == 0, result.output
    assert row_counts() == counts  # no leftovers from the first demo
    demo = workspace("demo")
    kpis = db.session.scalars(select(Kpi).where(Kpi.workspace_id == demo.id)).all()
    assert sorted(k.key for k in kpis) == sorted(f"K{n}" for n in range(1, 17))
    assert accounts.authenticate(DEMO_EMAIL, DEMO_PASSWORD) is not None


def test_demo_leaves_other_workspaces_alone(runner, make):
    other = make.workspace(make.user(), slug="client")
    make.value(make.kpi(other, "K1"), "2026-11-30", 5)
    before = row_counts()
    assert hub(runner, "demo").exit_code == 0
    assert hub(runner, "demo").exit_code == 0
    client = workspace("client")
    values = select(func.count()).select_from(KpiValue).join(Kpi)
    assert db.session.scalar(values.where(Kpi.workspace_id == client.id)) == 1
    assert row_counts()["memberships"] == before["memberships"] + 6


def test_demo_if_missing_creates_it_only_once(runner, make):
    first = hub(runner, "demo", "--if-missing")
    assert first.exit_code == 0
    assert "Created the demo workspace" in first.output
    demo = workspace("demo")
    make.kpi(demo, "K99")

    again = hub(runner, "demo", "--if-missing")
    assert again.exit_code == 0
    assert "already there" in again.output
    assert "http://127.0.0.1:5000/w/demo/" in again.output
    assert "demo@example.com / demo-password-1" in again.output
    assert db.session.scalar(select(Kpi).where(Kpi.key == "K99")) is not None


# ------------------------------------------------------------------ create-user


def test_create_user_with_a_password(runner):
    result = hub(runner, "create-user", "New@Example.com", "--password", "a-strong-password")
    assert result.exit_code == 0, result.output
    assert "new@example.com" in result.output
    assert accounts.authenticate("new@example.com", "a-strong-password") is not None


def test_create_user_asks_for_the_password_twice_without_echo(runner):
    result = hub(runner, "create-user", "new@example.com", input="a-strong-password\n" * 2)
    assert result.exit_code == 0, result.output
    assert "a-strong-password" not in result.output
    assert "Repeat for confirmation" in result.output
    assert accounts.authenticate("new@example.com", "a-strong-password") is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-an-email", "--password", "a-strong-password"], "is not a valid email address"),
        (["new@example.com", "--password", "short"], "Use at least 10 characters"),
        (["new@example.com", "--password", "aaaaaaaaaaaa"], "too easy to guess"),
        (["taken@example.com", "--password", "a-strong-password"], "already exists"),
    ],
)
def test_create_user_refusals_change_nothing(runner, make, args, message):
    make.user("taken@example.com")
    before = row_counts()
    result = hub(runner, "create-user", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert row_counts() == before


def test_create_user_gives_an_imported_member_a_password(runner):
    documents.import_document(minimal_document())
    db.session.commit()
    result = hub(runner, "create-user", "owner@example.com", "--password", "a-strong-password")
    assert result.exit_code == 0, result.output
    assert accounts.authenticate("owner@example.com", "a-strong-password") is not None
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


# ------------------------------------------------------------------------ token


def test_token_prints_a_working_api_token(runner, client, make):
    make.user("api@example.com")
    result = hub(runner, "token", "API@example.com")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("shub_")
    response = client.get("/api/v1/workspaces", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_token_for_an_unknown_user_is_refused(runner):
    result = hub(runner, "token", "nobody@example.com")
    assert result.exit_code == 1
    assert "no account for 'nobody@example.com'" in result.stderr
    assert "create-user" in result.stderr
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


# ----------------------------------------------------------------------- export


def test_export_writes_the_document_to_stdout(runner):
    documents.import_document(rich_document())
    db.session.commit()
    result = hub(runner, "export", "rich")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == documents.document_json(documents.export_workspace(workspace("rich")))
    assert json.loads(result.stdout)["workspace"]["slug"] == "rich"


def test_export_to_a_file(runner, tmp_path):
    documents.import_document(rich_document())
    db.session.commit()
    target = tmp_path / "rich.json"
    result = hub(runner, "export", "rich", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert documents.parse_document_json(target.read_text(encoding="utf-8")) == rich_document()


def test_export_of_an_unknown_workspace_fails(runner, tmp_path):
    target = tmp_path / "nothing.json"
    result = hub(runner, "export", "nope", "-o", str(target))
    assert result.exit_code == 1
    assert "There is no workspace 'nope'" in result.stderr
    assert not target.exists()


# ----------------------------------------------------------------------- import


def test_import_from_a_file_with_a_new_slug(runner, tmp_path):
    path = tmp_path / "doc.json"
    path.write_text(documents.document_json(rich_document()), encoding="utf-8")
    result = hub(runner, "import", str(path), "--slug", "copy")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Imported 'Ünïcødé Café — 北京 ☕' as copy: 5 members, 2 goals, 5 KPIs, 8 values, "
        "3 cycles, 4 initiatives, 3 key results.\n"
    )
    assert workspace("copy") is not None
    assert workspace("rich") is None


def test_import_from_stdin_round_trips_an_export(runner):
    documents.import_document(rich_document())
    db.session.commit()
    exported = hub(runner, "export", "rich").stdout
    result = hub(runner, "import", "-", "--slug", "rich-2", input=exported)
    assert result.exit_code == 0, result.output
    again = hub(runner, "export", "rich-2").stdout
    assert again == exported.replace('"slug": "rich"', '"slug": "rich-2"', 1)


def test_import_summary_counts_one_of_each_in_the_singular(runner):
    result = hub(runner, "import", "-", input=json.dumps(minimal_document()))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Imported 'Base' as base: 1 member, 1 goal, 3 KPIs, 3 values, 1 cycle, "
        "1 initiative, 1 key result.\n"
    )


def test_an_invalid_import_lists_every_problem_and_changes_nothing(runner, make):
    make.workspace(slug="base")
    before = row_counts()
    doc = minimal_document()
    doc["kpis"][0]["green_min"] = "100"
    doc["kpis"][1]["values"][0]["period"] = "2026-W48"
    result = hub(runner, "import", "-", input=json.dumps(doc))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: <stdin> was not imported; nothing was changed. Fix these 3 problems:"
    assert lines[1:] == [
        "  workspace.slug: 'base' is already taken",
        "  kpis[0].green_min: must be a number, not text '100'",
        "  kpis[1].values[0].period: '2026-W48' is not a monthly period key (expected YYYY-MM)",
    ]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "Not valid JSON: Expecting property name"),
        (b"\xff\xfe\x00", "is not UTF-8 text"),
        (b"[]", "document: expected an object, not a list"),
    ],
)
def test_import_refuses_what_is_not_a_document(runner, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    before = row_counts()
    result = hub(runner, "import", str(path))
    assert result.exit_code == 1
    assert message in result.stderr
    assert row_counts() == before


def test_import_of_a_missing_file_fails(runner, tmp_path):
    result = hub(runner, "import", str(tmp_path / "missing.json"))
    assert result.exit_code == 2
    assert "No such file" in result.stderr


def test_a_late_failure_during_import_leaves_nothing_behind(runner, make, monkeypatch):
    make.workspace(make.user("someone@example.com"), slug="other")
    before = row_counts()
    real = documents.set_value
    calls = []

    def refuse_the_last_value(kpi, period, value, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls.append(period)
        if kpi.key == "MRR":
            raise Invalid(["value: refused at the last moment"])
        return real(kpi, period, value, **kwargs)

    monkeypatch.setattr(documents, "set_value", refuse_the_last_value)
    result = hub(runner, "import", "-", input=documents.document_json(rich_document()))
    assert result.exit_code == 1
    assert "  kpis[4].values[0].value: refused at the last moment" in result.stderr
    assert len(calls) == 8  # every other value had been written (and was rolled back)
    assert row_counts() == before
    assert db.session.scalar(select(KpiValue.value).where(KpiValue.value == Decimal("0.1"))) is None


def test_import_accepts_a_byte_order_mark(runner, tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(minimal_document()).encode())
    result = hub(runner, "import", str(path))
    assert result.exit_code == 0, result.output
    assert workspace("base") is not None


def test_export_into_a_missing_folder_fails_cleanly(runner, make, tmp_path):
    make.workspace(slug="client")
    result = hub(runner, "export", "client", "-o", str(tmp_path / "no" / "such.json"))
    assert result.exit_code == 1
    assert "Could not write" in result.stderr


def test_share_prints_a_link_that_opens_the_scorecard_until_revoked(app, runner, make):
    owner = make.user()
    make.workspace(owner, slug="acme", name="Acme")
    result = runner.invoke(args=["hub", "share", "acme", "--label", "Board", "--days", "30"])
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith("http://127.0.0.1:5000/s/shr_")
    assert "expires in 30 days" in result.stderr
    path = link.removeprefix("http://127.0.0.1:5000")
    visitor = app.test_client()
    assert visitor.get(path).status_code == 200
    share = db.session.scalar(db.select(ShareLink))
    assert share.label == "Board"
    sharing.revoke_share_link(share.workspace, share.id)
    db.session.commit()
    assert visitor.get(path).status_code == 404


def test_share_follows_hub_public_url(app, runner, make, monkeypatch):
    make.workspace(make.user(), slug="acme")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://hub.example.com")
    result = runner.invoke(args=["hub", "share", "acme"])
    assert result.stdout.startswith("https://hub.example.com/s/shr_")
    assert "never expires" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hub", "share", "nope"], "There is no workspace 'nope'"),
        (["hub", "share", "acme", "--days", "0"], "0 is not in the range"),
        (["hub", "share", "acme", "--label", "x" * 121], "at most 120"),
    ],
)
def test_share_refuses_bad_arguments_and_creates_nothing(runner, make, args, message):
    make.workspace(make.user(), slug="acme")
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(db.select(db.func.count(ShareLink.id))) == 0
