"""Members, their roles, and invite links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.auth import hash_token
from hub.domain import workspaces as ops
from hub.extensions import db
from hub.models import Invite, Membership, Role, User
from hub.models.base import utcnow
from tests.factories import PASSWORD

NEW_PASSWORD = "a long enough passphrase"


def membership(workspace, user) -> Membership | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Membership).where(
            Membership.workspace_id == workspace.id, Membership.user_id == user.id
        )
    )


def role_of(workspace, user) -> str | None:
    member = membership(workspace, user)
    return member.role if member else None


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def invite(workspace, role="editor", *, days=7, email="", by=None) -> str:
    """An open invite; its token (as the link would carry it)."""
    _, token = ops.create_invite(workspace, Role(role), by, days=days, email=email)
    db.session.commit()
    return token


@pytest.fixture
def team(make):
    """A workspace with one member of each role."""
    owner = make.user("owner@example.com", name="Olive Owner")
    workspace = make.workspace(owner, slug="acme", name="Acme")
    people = {"owner": owner}
    for role in ("editor", "updater", "viewer"):
        people[role] = make.member(workspace, role, make.user(f"{role}@example.com"))
    return workspace, people


# ---------------------------------------------------------------------- the list


@pytest.mark.parametrize("role", ["owner", "editor", "updater", "viewer"])
def test_every_member_sees_who_is_in_the_workspace_with_their_roles(client, login, team, role):
    workspace, people = team
    login(people[role])
    response = client.get("/w/acme/members")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = {
        name: text_of(row)
        for name, row in (
            (m.group(1), m.group(2))
            for m in re.finditer(r'<tr id="member-(\d+)">(.*?)</tr>', page, re.S)
        )
    }
    assert len(rows) == 4
    assert text_of(page).count("Olive Owner") >= 1
    if role == "owner":
        # Owners get a role picker per member, set to the member's role.
        for person_role in ("editor", "updater", "viewer"):
            member = membership(workspace, people[person_role])
            select_html = re.search(
                rf'<select[^>]*id="member-{member.id}-role"[^>]*>(.*?)</select>', page, re.S
            ).group(1)
            assert f'<option selected value="{person_role}">' in select_html
    else:
        for person_role in ("Owner", "Editor", "Updater", "Viewer"):
            assert any(person_role in row for row in rows.values())
        assert "<select" not in page
        assert "Invite someone" not in page


@pytest.mark.parametrize(
    ("role", "sees_emails"),
    [("owner", True), ("editor", True), ("updater", False), ("viewer", False)],
)
def test_emails_are_shown_to_editors_and_owners_only(client, login, team, role, sees_emails):
    _, people = team
    login(people[role])
    main = client.get("/w/acme/members").get_data(as_text=True).split("<main", 1)[1]
    for email in ("owner@example.com", "editor@example.com", "viewer@example.com"):
        assert (email in main) is sees_emails


def test_the_nav_marks_members_as_the_current_page(client, login, team):
    _, people = team
    login(people["viewer"])
    page = client.get("/w/acme/members").get_data(as_text=True)
    assert '<a href="/w/acme/members" aria-current="page">Members</a>' in page
    assert '<a href="/w/acme/settings">Settings</a>' in page


# ------------------------------------------------------------------- change role


def test_the_owner_changes_a_role(client, login, team):
    workspace, people = team
    member = membership(workspace, people["viewer"])
    login(people["owner"])
    response = client.post(
        f"/w/acme/members/{member.id}/role", data={f"member-{member.id}-role": "editor"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/acme/members"
    assert role_of(workspace, people["viewer"]) == "editor"
    assert "is now editor" in client.get("/w/acme/members").get_data(as_text=True)


def test_changing_a_role_with_htmx_returns_only_that_row(client, login, team):
    workspace, people = team
    member = membership(workspace, people["updater"])
    login(people["owner"])
    response = client.post(
        f"/w/acme/members/{member.id}/role",
        data={f"member-{member.id}-role": "viewer"},
        headers={"HX-Request": "true", "HX-Target": f"member-{member.id}"},
    )
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    fragment = response.get_data(as_text=True).strip()
    assert fragment.startswith(f'<tr id="member-{member.id}">')
    assert fragment.endswith("</tr>")
    assert '<option selected value="viewer">' in fragment
    assert 'role="status"' in fragment
    assert "Saved" in fragment
    assert role_of(workspace, people["updater"]) == "viewer"


def test_the_last_owner_cannot_step_down(client, login, team):
    workspace, people = team
    member = membership(workspace, people["owner"])
    login(people["owner"])
    url = f"/w/acme/members/{member.id}/role"
    response = client.post(url, data={f"member-{member.id}-role": "editor"})
    assert response.status_code == 303
    page = client.get("/w/acme/members").get_data(as_text=True)
    assert "A workspace needs at least one owner: make someone else owner first." in page
    assert role_of(workspace, people["owner"]) == "owner"
    # The same with htmx: the row comes back with the reason, showing the role unchanged.
    response = client.post(
        url, data={f"member-{member.id}-role": "viewer"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    fragment = response.get_data(as_text=True)
    assert "make someone else owner first" in fragment
    assert 'role="alert"' in fragment
    assert '<option selected value="owner">' in fragment
    assert role_of(workspace, people["owner"]) == "owner"


def test_an_owner_can_step_down_when_another_owner_remains(client, login, team):
    workspace, people = team
    ops.change_role(workspace, membership(workspace, people["editor"]), Role.OWNER)
    db.session.commit()
    member = membership(workspace, people["owner"])
    login(people["owner"])
    response = client.post(
        f"/w/acme/members/{member.id}/role",
        data={f"member-{member.id}-role": "editor"},
        headers={"HX-Request": "true"},
    )
    # Their own rights changed: the whole page reloads rather than one row.
    assert response.status_code == 204
    assert response.headers["HX-Location"] == "/w/acme/members"
    assert role_of(workspace, people["owner"]) == "editor"
    assert "<select" not in client.get("/w/acme/members").get_data(as_text=True)


def test_an_unknown_role_is_refused(client, login, team):
    workspace, people = team
    member = membership(workspace, people["viewer"])
    login(people["owner"])
    response = client.post(
        f"/w/acme/members/{member.id}/role", data={f"member-{member.id}-role": "admin"}
    )
    assert response.status_code == 303
    assert "Choose owner, editor, updater or viewer." in client.get("/w/acme/members").get_data(
        as_text=True
    )
    assert role_of(workspace, people["viewer"]) == "viewer"


@pytest.mark.parametrize("role", ["editor", "updater", "viewer"])
def test_only_owners_change_roles_or_remove(client, login, team, role):
    workspace, people = team
    target = membership(workspace, people["viewer" if role != "viewer" else "updater"])
    login(people[role])
    response = client.post(
        f"/w/acme/members/{target.id}/role", data={f"member-{target.id}-role": "owner"}
    )
    assert response.status_code == 403
    assert client.post(f"/w/acme/members/{target.id}/remove").status_code == 403
    assert client.get(f"/w/acme/members/{target.id}/remove").status_code == 403
    assert membership(workspace, target.user).role != "owner"


def test_a_member_of_another_workspace_is_not_found(client, login, make, team):
    _, people = team
    other = make.workspace(make.user(), slug="other")
    stranger = make.member(other, "viewer")
    stranger_member = membership(other, stranger)
    login(people["owner"])
    url = f"/w/acme/members/{stranger_member.id}"
    data = {f"member-{stranger_member.id}-role": "owner"}
    assert client.post(f"{url}/role", data=data).status_code == 404
    assert client.get(f"{url}/remove").status_code == 404
    assert client.post(f"{url}/remove").status_code == 404
    assert role_of(other, stranger) == "viewer"


# ------------------------------------------------------------------------ remove


def test_removing_asks_first_then_removes(client, login, team):
    workspace, people = team
    member = membership(workspace, people["editor"])
    login(people["owner"])
    page = client.get(f"/w/acme/members/{member.id}/remove").get_data(as_text=True)
    assert "<h1>Remove editor?</h1>" in page
    assert "editor@example.com" in page
    assert role_of(workspace, people["editor"]) == "editor"
    response = client.post(f"/w/acme/members/{member.id}/remove")
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/acme/members"
    assert membership(workspace, people["editor"]) is None
    assert "editor was removed from Acme." in client.get("/w/acme/members").get_data(as_text=True)
    # The user's account stays; only their access went.
    assert db.session.get(User, people["editor"].id) is not None


def test_the_last_owner_cannot_be_removed(client, login, team):
    workspace, people = team
    member = membership(workspace, people["owner"])
    login(people["owner"])
    members_page = client.get("/w/acme/members").get_data(as_text=True)
    assert "Last owner" in members_page
    page = client.get(f"/w/acme/members/{member.id}/remove").get_data(as_text=True)
    assert "You are the last owner." in page
    assert "make someone else owner first" in page
    assert "<form" not in page.split("<main", 1)[1]
    response = client.post(f"/w/acme/members/{member.id}/remove")
    assert response.status_code == 303
    assert "The last owner cannot be removed." in client.get("/w/acme/members").get_data(
        as_text=True
    )
    assert role_of(workspace, people["owner"]) == "owner"


def test_an_owner_may_leave_when_another_owner_remains(client, login, team):
    workspace, people = team
    ops.change_role(workspace, membership(workspace, people["editor"]), Role.OWNER)
    db.session.commit()
    member = membership(workspace, people["owner"])
    login(people["owner"])
    page = client.get(f"/w/acme/members/{member.id}/remove").get_data(as_text=True)
    assert "<h1>Leave Acme?</h1>" in page
    response = client.post(f"/w/acme/members/{member.id}/remove")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "You left Acme." in client.get("/").get_data(as_text=True)
    assert client.get("/w/acme/members").status_code == 404


# ------------------------------------------------------------------ invite links


def create_invite_form(**overrides: str) -> dict[str, str]:
    data = {"invite-role": "updater", "invite-days": "7", "invite-email": ""}
    data.update(overrides)
    return data


def test_the_owner_creates_an_invite_link_shown_once(client, login, team):
    workspace, people = team
    login(people["owner"])
    response = client.post("/w/acme/invites", data=create_invite_form())
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/acme/members#new-invite"
    first = client.get("/w/acme/members")
    assert first.headers["Cache-Control"] == "no-store"
    page = first.get_data(as_text=True)
    links = re.findall(r"https?://[^\"<\s]+/invite/(inv_[\w-]+)", page)
    assert len(links) == 1
    token = links[0]
    assert "Your invite link is ready" in page
    assert "join as <strong>Updater</strong>" in page
    # Only a fingerprint is kept: the token itself is nowhere in the database.
    invite_row = db.session.scalar(select(Invite))
    assert invite_row.token_hash == hash_token(token)
    assert token not in (invite_row.token_hash, invite_row.email or "")
    assert invite_row.role == "updater"
    # Shown once: the next visit lists the invite but no longer shows the link.
    again = client.get("/w/acme/members").get_data(as_text=True)
    assert token not in again
    assert "Your invite link is ready" not in again
    assert "Anyone with the link" in again


@pytest.mark.parametrize("days", [1, 7, 30])
def test_an_invite_link_expires_after_the_chosen_time(client, login, team, days):
    workspace, people = team
    login(people["owner"])
    before = utcnow()
    client.post("/w/acme/invites", data=create_invite_form(**{"invite-days": str(days)}))
    expires_at = db.session.scalar(select(Invite.expires_at))
    assert before + timedelta(days=days) <= expires_at <= utcnow() + timedelta(days=days)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"invite-days": "5"}, "Choose how long the link lasts: 1 day, 7 days, 30 days."),
        ({"invite-days": "forever"}, "Choose how long the link lasts"),
        ({"invite-role": "admin"}, "Choose owner, editor, updater or viewer."),
        ({"invite-email": "not an email"}, "Enter an email address like name@example.com."),
    ],
)
def test_a_bad_invite_form_is_re_rendered_with_the_reason(client, login, team, overrides, message):
    _, people = team
    login(people["owner"])
    response = client.post("/w/acme/invites", data=create_invite_form(**overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Invite.id))) == 0


@pytest.mark.parametrize("role", ["editor", "updater", "viewer"])
def test_only_owners_make_or_revoke_invites(client, login, team, role):
    workspace, people = team
    invite(workspace)
    invite_id = db.session.scalar(select(Invite.id))
    login(people[role])
    assert client.post("/w/acme/invites", data=create_invite_form()).status_code == 403
    assert client.post(f"/w/acme/invites/{invite_id}/revoke").status_code == 403
    assert db.session.scalar(select(db.func.count(Invite.id))) == 1


def test_a_revoked_link_no_longer_works(client, login, team):
    workspace, people = team
    token = invite(workspace, email="newbie@example.com")
    invite_id = db.session.scalar(select(Invite.id))
    login(people["owner"])
    page = client.get("/w/acme/members").get_data(as_text=True)
    assert "newbie@example.com" in page
    response = client.post(f"/w/acme/invites/{invite_id}/revoke")
    assert response.status_code == 303
    page = client.get("/w/acme/members").get_data(as_text=True)
    assert "Invite link revoked." in page
    assert "No open invite links." in page
    gone = client.get(f"/invite/{token}")
    assert gone.status_code == 410
    assert "An owner of the workspace revoked it." in gone.get_data(as_text=True)


def test_revoking_another_workspaces_invite_is_not_found(client, login, make, team):
    _, people = team
    other = make.workspace(make.user(), slug="other")
    token = invite(other)
    invite_id = db.session.scalar(select(Invite.id))
    login(people["owner"])
    assert client.post(f"/w/acme/invites/{invite_id}/revoke").status_code == 404
    assert client.get(f"/invite/{token}").status_code == 200


# --------------------------------------------------------------- using an invite


def test_an_unknown_invite_link_is_not_found(client):
    assert client.get("/invite/inv_nonsense").status_code == 404
    assert client.post("/invite/inv_nonsense").status_code == 404


def test_a_logged_in_user_accepts_an_invite(client, login, make, team):
    workspace, people = team
    token = invite(workspace, "editor", by=people["owner"])
    newcomer = make.user("newcomer@example.com")
    login(newcomer)
    response = client.get(f"/invite/{token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = response.get_data(as_text=True)
    assert "Olive Owner invites you" in page
    assert "Accept and join Acme" in page
    assert membership(workspace, newcomer) is None  # opening the link changes nothing
    response = client.post(f"/invite/{token}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/acme/"
    assert role_of(workspace, newcomer) == "editor"
    assert "Welcome to Acme. You are editor here." in client.get("/w/acme/settings").get_data(
        as_text=True
    )


def test_an_invite_link_works_once(client, login, make, team):
    workspace, people = team
    token = invite(workspace, "viewer")
    login(make.user())
    client.post(f"/invite/{token}")
    second = make.user()
    login(second)
    for method in ("GET", "POST"):
        response = client.open(f"/invite/{token}", method=method)
        assert response.status_code == 410
        page = response.get_data(as_text=True)
        assert "It has already been used" in page
        assert "ask whoever invited you to send a new link" in page
    assert membership(workspace, second) is None


def test_an_expired_invite_link_says_what_to_do(client, db, team):
    workspace, _ = team
    token = invite(workspace, "viewer", days=1)
    row = db.session.scalar(select(Invite))
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(f"/invite/{token}")
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "This invite link no longer works" in page
    assert "It expired on" in page
    assert "ask whoever invited you to send a new link" in page
    assert '<a class="skip-link"' in page  # the layout


def test_whoever_used_a_link_is_pointed_to_the_workspace(client, login, make, team):
    workspace, _ = team
    token = invite(workspace, "viewer")
    user = make.user()
    login(user)
    client.post(f"/invite/{token}")
    page = client.get(f"/invite/{token}").get_data(as_text=True)
    assert "You used it yourself" in page
    assert 'href="/w/acme/"' in page


def test_accepting_never_lowers_a_role_nor_uses_up_the_link(client, login, team):
    workspace, people = team
    token = invite(workspace, "viewer")
    login(people["editor"])
    page = client.get(f"/invite/{token}").get_data(as_text=True)
    assert "You are already editor in Acme" in page
    assert "Accept and join" not in page
    response = client.post(f"/invite/{token}")
    assert response.status_code == 303
    assert role_of(workspace, people["editor"]) == "editor"
    assert db.session.scalar(select(Invite)).state() == "open"
    # The person it was meant for can still use it.
    client.post("/logout")
    response = client.post(
        f"/invite/{token}",
        data={"email": "meant@example.com", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 303


def test_accepting_a_higher_role_raises_it(client, login, team):
    workspace, people = team
    token = invite(workspace, "editor")
    login(people["viewer"])
    assert "Accepting makes you editor" in client.get(f"/invite/{token}").get_data(as_text=True)
    client.post(f"/invite/{token}")
    assert role_of(workspace, people["viewer"]) == "editor"


def test_signing_up_through_an_invite_joins_and_logs_in(client, team):
    workspace, _ = team
    token = invite(workspace, "updater", email="new.person@example.com")
    page = client.get(f"/invite/{token}").get_data(as_text=True)
    assert "Create your account to join" in page
    assert 'value="new.person@example.com"' in page
    assert f'href="/login?next=/invite/{token}"' in page
    response = client.post(
        f"/invite/{token}",
        data={
            "name": "New Person",
            "email": "New.Person@example.com",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/acme/"
    user = db.session.scalar(select(User).where(User.email == "new.person@example.com"))
    assert role_of(workspace, user) == "updater"
    assert client.get("/w/acme/settings").status_code == 200  # logged in


def test_signing_up_through_an_invite_checks_the_form(client, team):
    workspace, _ = team
    token = invite(workspace)
    response = client.post(
        f"/invite/{token}",
        data={"email": "x@example.com", "password": "short", "confirm": "short"},
    )
    assert response.status_code == 422
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    assert db.session.scalar(select(Invite)).state() == "open"


def test_an_invite_does_not_take_over_an_existing_account(client, make, team):
    workspace, _ = team
    make.user("taken@example.com")
    token = invite(workspace, "owner", email="taken@example.com")
    response = client.post(
        f"/invite/{token}",
        data={"email": "taken@example.com", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 422
    assert "Log in to accept this invite." in response.get_data(as_text=True)
    assert db.session.scalar(select(Invite)).state() == "open"


def test_logging_in_from_an_invite_comes_back_to_it(client, make, team):
    workspace, _ = team
    token = invite(workspace, "editor")
    existing = make.user("existing@example.com")
    response = client.post(
        f"/login?next=/invite/{token}",
        data={"email": "existing@example.com", "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/invite/{token}"
    assert "Accept and join Acme" in client.get(f"/invite/{token}").get_data(as_text=True)
    client.post(f"/invite/{token}")
    assert role_of(workspace, existing) == "editor"


def test_signing_up_from_an_invite_comes_back_to_it(client, team):
    workspace, _ = team
    token = invite(workspace, "viewer")
    response = client.post(
        f"/signup?next=/invite/{token}",
        data={"email": "fresh@example.com", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.headers["Location"] == f"/invite/{token}"
    client.post(f"/invite/{token}")
    user = db.session.scalar(select(User).where(User.email == "fresh@example.com"))
    assert role_of(workspace, user) == "viewer"
