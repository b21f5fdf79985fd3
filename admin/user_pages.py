"""Admin pages for staff accounts: the list, a new account, and one account's page (name and
role, temporary password, deactivation, unlocking a sign-in lockout). Thin: the rules live in
`admin.users`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin import users
from frontyard.auth import LoginThrottle, Role, User
from frontyard.exceptions import DomainError
from frontyard.guards import any_role_label, current_user, db, require_role
from frontyard.i18n import gettext as _
from frontyard.revocation import announce_revoked, announce_unlocked, user_owner
from frontyard.templating import render

MAX_FIELD = 256


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value)[:MAX_FIELD] for key, value in form.items()}


def _actor(request: Request) -> int | None:
    user = current_user(request)
    return user.id if user else None


def _throttle(request: Request) -> LoginThrottle:
    return request.app.state.login_throttle  # type: ignore[no-any-return]


def _list(request: Request, extra: dict[str, Any] | None = None,
          status_code: int = 200) -> Response:
    with db(request) as session:
        accounts = users.list_users(session)
    throttle = _throttle(request)
    locked = {user.id for user in accounts if throttle.is_account_locked(user.username)}
    context = {"accounts": accounts, "role_label": any_role_label, "locked": locked,
               "roles": list(Role), "error": None, "fields": {}, "form": {},
               "created": None, "temporary": None, **(extra or {})}
    return render(request, "admin/users.html", context, status_code=status_code)


def _account(request: Request, user: User, extra: dict[str, Any] | None = None,
             status_code: int = 200) -> Response:
    context = {"account": user, "roles": list(Role), "role_label": any_role_label,
               "error": None, "fields": {},
               "locked": _throttle(request).is_account_locked(user.username),
               "is_self": user.id == _actor(request), "notice": None, "temporary": None,
               **(extra or {})}
    return render(request, "admin/user.html", context, status_code=status_code)


@require_role(Role.ADMIN)
async def user_list(request: Request) -> Response:
    """Every account with its role and state, and the form for a new one."""
    return _list(request)


@require_role(Role.ADMIN)
async def user_create(request: Request) -> Response:
    """Add an account with a temporary password, shown once on the answer page."""
    form = await _form(request)
    try:
        with db(request) as session:  # left (and rolled back) before the page is read
            user, temporary = users.add_user(session, _actor(request), form.get("username", ""),
                                             form.get("display_name", ""),
                                             form.get("role", ""))
            session.commit()
    except DomainError as error:
        return _list(request, {"error": error, "fields": error.fields, "form": form},
                     status_code=error.status_code)
    return _list(request, {"created": user, "temporary": temporary})


def _change(request: Request, act: Callable[[Session, User], Any],
            notice: Callable[[Any], str]) -> Callable[[], Any]:
    async def run() -> Response:
        with db(request) as session:
            user = users.find_user(session, request.path_params["user_id"])
            try:
                outcome = act(session, user)
            except DomainError as error:
                session.rollback()
                user = users.find_user(session, request.path_params["user_id"])
                return _account(request, user, {"error": error, "fields": error.fields},
                                status_code=error.status_code)
            session.commit()
        extra = {"notice": notice(outcome)}
        if isinstance(outcome, str):
            extra["temporary"] = outcome
        return _account(request, user, extra)

    return run


@require_role(Role.ADMIN)
async def user_page(request: Request) -> Response:
    """One account: its name and role, and what an admin can do with it."""
    with db(request) as session:
        user = users.find_user(session, request.path_params["user_id"])
    return _account(request, user)


@require_role(Role.ADMIN)
async def user_update(request: Request) -> Response:
    """Save the display name and role."""
    form = await _form(request)
    return await _change(request, lambda session, user: users.update_user(
        session, _actor(request), user, form.get("display_name", ""), form.get("role", "")),
        lambda _outcome: _("Saved."))()


@require_role(Role.ADMIN)
async def user_password(request: Request) -> Response:
    """Set a temporary password (shown once); the account's sessions end."""
    hub = request.app.state.hub

    def act(session: Session, user: User) -> str | None:
        temporary = users.reset_password(session, _actor(request), user)
        announce_revoked(session, hub, user_owner(user.id))  # type: ignore[arg-type]
        return temporary

    return await _change(request, act, lambda _outcome: _(
        "Temporary password set. Give it to the person; they choose their own at the next "
        "sign-in. It is not shown again."))()


@require_role(Role.ADMIN)
async def user_active(request: Request) -> Response:
    """Deactivate (sessions end at once) or reactivate the account."""
    form = await _form(request)
    active = form.get("active") == "1"
    hub = request.app.state.hub

    def act(session: Session, user: User) -> bool:
        changed = users.set_active(session, _actor(request), user, active)
        if changed and not active:
            announce_revoked(session, hub, user_owner(user.id))  # type: ignore[arg-type]
        return changed

    return await _change(request, act, lambda _outcome: _("Reactivated.") if active
                         else _("Deactivated: every session of this account has ended."))()


@require_role(Role.ADMIN)
async def user_unlock(request: Request) -> Response:
    """Clear the account's sign-in lockout in every worker."""
    hub = request.app.state.hub

    def act(session: Session, user: User) -> None:
        users.record_unlock(session, _actor(request), user)
        announce_unlocked(session, hub, user.username)  # the other workers
        _throttle(request).unlock(user.username)  # this one, before the answer is rendered

    return await _change(request, act, lambda _outcome: _("The sign-in lockout is cleared."))()


routes = [
    Route("/admin/users", user_list, methods=["GET"], name="admin_users"),
    Route("/admin/users", user_create, methods=["POST"]),
    Route("/admin/users/{user_id:int}", user_page, methods=["GET"], name="admin_user"),
    Route("/admin/users/{user_id:int}", user_update, methods=["POST"]),
    Route("/admin/users/{user_id:int}/password", user_password, methods=["POST"]),
    Route("/admin/users/{user_id:int}/active", user_active, methods=["POST"]),
    Route("/admin/users/{user_id:int}/unlock", user_unlock, methods=["POST"]),
]
