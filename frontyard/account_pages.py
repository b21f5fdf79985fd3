"""A signed-in person's own account: changing their password (forced after a temporary one)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from frontyard.auth import Role, User
from frontyard.exceptions import ValidationFailed
from frontyard.guards import PASSWORD_PATH, current_user, db, require_role, sign_in
from frontyard.passwords import change_own_password
from frontyard.templating import render
from frontyard.web import MAX_FIELD, safe_next


def _page(request: Request, user: User, target: str, error: ValidationFailed | None = None,
          status_code: int = 200) -> Response:
    context = {"next": target, "forced": user.must_change_password,
               "error": error, "fields": error.fields if error else {}}
    return render(request, "auth/password.html", context, status_code=status_code)


@require_role(Role.STAFF)
async def password_form(request: Request) -> Response:
    """The form to change one's password."""
    user = current_user(request)
    assert user is not None  # the guard let only signed-in people through
    return _page(request, user, safe_next(request.query_params.get("next")))


@require_role(Role.STAFF)
async def password_submit(request: Request) -> Response:
    """Change the password; this session continues, every other one of the person ends."""
    form = await request.form()
    fields = {name: str(form.get(name, ""))[:MAX_FIELD]
              for name in ("current_password", "new_password", "confirmation")}
    target = safe_next(str(form.get("next", "")))
    signed_in = current_user(request)
    assert signed_in is not None
    with db(request) as session:
        user = session.get(User, signed_in.id)
        assert user is not None
        try:
            change_own_password(session, user, fields["current_password"],
                                fields["new_password"], fields["confirmation"])
        except ValidationFailed as error:
            return _page(request, signed_in, target, error, status_code=422)
        session.commit()
    sign_in(request, user)  # the new password's epoch: this session stays, the others end
    return RedirectResponse(target, status_code=303)


routes = [
    Route(PASSWORD_PATH, password_form, methods=["GET"], name="password_form"),
    Route(PASSWORD_PATH, password_submit, methods=["POST"], name="password_submit"),
]
