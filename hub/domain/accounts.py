"""Operations on users and API tokens (flush, never commit)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from hub.auth import hash_token, new_token
from hub.domain.errors import DomainError
from hub.extensions import db
from hub.models import ApiToken, User
from hub.models.base import utcnow

MIN_PASSWORD_LENGTH = 10


def normalize_email(raw: str) -> str:
    """A syntactically valid, lower-cased email address, or DomainError."""
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise DomainError(f"{raw!r} is not a valid email address: {error}", field="email") from None
    return result.normalized.lower()


def password_problem(password: str) -> str | None:
    """Why a password is too weak, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if password.strip() == "" or len(set(password)) < 4:
        return "That password is too easy to guess."
    return None


def find_user(email: str) -> User | None:
    """The user with this email (case-insensitive), if any."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(email: str, password: str | None = None, name: str = "") -> User:
    """A new user; with no password they can only get in through an invite or the CLI."""
    email = normalize_email(email)
    if find_user(email) is not None:
        raise DomainError(f"An account for {email} already exists.", field="email")
    user = User(email=email, name=name.strip()[:120])
    if password is not None:
        set_password(user, password)
    db.session.add(user)
    db.session.flush()
    return user


def ensure_user(email: str) -> User:
    """The user with this email, created without a password when missing."""
    return find_user(email) or create_user(email)


def set_password(user: User, password: str) -> None:
    """Set a password after checking its strength."""
    problem = password_problem(password)
    if problem:
        raise DomainError(problem, field="password")
    user.set_password(password)


def authenticate(email: str, password: str) -> User | None:
    """The user if the email and password match, else None (same answer either way)."""
    user = find_user(email)
    if user is None:
        # Hash anyway so timing does not reveal which emails have accounts.
        User().set_password(password or "x")
        return None
    return user if user.check_password(password) else None


def issue_api_token(user: User, name: str = "") -> str:
    """Create a personal API token and return it; only its hash is kept."""
    token = new_token("shub")
    db.session.add(
        ApiToken(user=user, name=name[:120], token_hash=hash_token(token), prefix=token[:12])
    )
    db.session.flush()
    return token


def user_for_api_token(token: str) -> User | None:
    """The owner of a live API token (and note its use), or None."""
    row = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None:
        return None
    row.last_used_at = utcnow()
    return row.user
