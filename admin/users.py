"""Staff accounts as an admin manages them: create, name and role, temporary passwords,
deactivation and the sign-in lockout; every change audited with before and after.

Plain functions on a database session (no HTTP), shared by the admin pages and the
`frontyard user` commands. The caller commits; on an error nothing has been written.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, func, select

from frontyard import audit
from frontyard.auth import Role, User, hash_password
from frontyard.exceptions import Conflict, NotFound, ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.passwords import check_new_password, set_password, temporary_password

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MAX_DISPLAY_NAME = 128


def snapshot(user: User) -> dict[str, Any]:
    """What the audit log keeps of an account (never its password)."""
    return {"username": user.username, "display_name": user.display_name,
            "role": user.role.value, "active": user.active}


def _audit(session: Session, actor_id: int | None, action: str, before: dict[str, Any] | None,
           user: User) -> None:
    audit.record(session, actor_id, action, None, user=user.username, before=before,
                 after=snapshot(user))


def list_users(session: Session) -> list[User]:
    """Every account, active ones first, by user name."""
    return list(session.exec(select(User).order_by(
        User.active.desc(), User.username)))  # type: ignore[attr-defined,arg-type]


def find_user(session: Session, user_id: int | None = None, username: str | None = None) -> User:
    """The account with this id or user name, or NotFound."""
    user = session.get(User, user_id) if user_id is not None else session.exec(
        select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(_("There is no such user."))
    return user


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        message = _("Choose one of the roles.")
        raise ValidationFailed(message, role=message) from None


def _display_name(value: str) -> str:
    name = " ".join(value.split())
    if len(name) > MAX_DISPLAY_NAME:
        message = _("The display name may have at most %(count)s characters.") % {
            "count": MAX_DISPLAY_NAME}
        raise ValidationFailed(message, display_name=message)
    return name


def _keep_an_admin(session: Session, user: User, actor_id: int | None) -> None:
    """Refuse to take the last active admin's rights away, or an admin's own."""
    if user.id == actor_id:
        raise Conflict(_("You cannot take away your own admin rights or deactivate yourself."))
    if user.role == Role.ADMIN and user.active:
        admins = session.exec(select(func.count()).select_from(User).where(
            User.role == Role.ADMIN, User.active == True)).one()  # noqa: E712
        if admins <= 1:
            raise Conflict(_("This is the last active admin; make someone else an admin "
                             "first."))


def add_user(session: Session, actor_id: int | None, username: str, display_name: str,
             role: str, password: str | None = None) -> tuple[User, str | None]:
    """A new account; without a password it gets a temporary one (returned, shown once)."""
    username = username.strip()
    if not USERNAME.fullmatch(username):
        message = _("A user name has 1 to 64 letters, digits or . _ @ - (no spaces).")
        raise ValidationFailed(message, username=message)
    if session.exec(select(User).where(func.lower(User.username) == username.lower())).first():
        message = _("A user named %(name)s exists already.") % {"name": username}
        raise ValidationFailed(message, username=message)
    temporary = None if password else temporary_password()
    check_new_password(password or temporary or "", username)
    user = User(username=username, display_name=_display_name(display_name), role=_role(role),
                password_hash=hash_password(password or temporary or ""),
                must_change_password=temporary is not None)
    session.add(user)
    session.flush()
    _audit(session, actor_id, "user_created", None, user)
    return user, temporary


def update_user(session: Session, actor_id: int | None, user: User, display_name: str,
                role: str) -> None:
    """Change an account's display name and role."""
    before = snapshot(user)
    new_role = _role(role)
    if new_role != Role.ADMIN and user.role == Role.ADMIN:
        _keep_an_admin(session, user, actor_id)
    user.display_name, user.role = _display_name(display_name), new_role
    session.add(user)
    if snapshot(user) != before:
        _audit(session, actor_id, "user_changed", before, user)


def reset_password(session: Session, actor_id: int | None, user: User,
                   password: str | None = None) -> str | None:
    """Give the account a temporary password (returned) or the given one; its sessions end."""
    temporary = None if password else temporary_password()
    set_password(session, user, password or temporary or "", temporary=temporary is not None)
    user.session_version += 1
    _audit(session, actor_id, "password_reset", snapshot(user), user)
    return temporary


def set_active(session: Session, actor_id: int | None, user: User, active: bool) -> bool:
    """Deactivate (every session ends at once) or reactivate; whether anything changed."""
    if user.active == active:
        return False
    if not active:
        _keep_an_admin(session, user, actor_id)
        user.session_version += 1
    before = snapshot(user)
    user.active = active
    session.add(user)
    _audit(session, actor_id, "user_activated" if active else "user_deactivated", before, user)
    return True


def record_unlock(session: Session, actor_id: int | None, user: User) -> None:
    """Audit an admin's unlock of the account's sign-in lockout."""
    audit.record(session, actor_id, "user_unlocked", None, user=user.username)
