"""Staff look a resident's code up: the details entered at home, before or after the kiosk.

An unused code shows its details here (audited as `pre_entry_viewed`); a redeemed one leads to
its visit's page, which audits its own view (`details_viewed`). Staff pages: ja/en, sign-in.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from counter.models import Visit
from frontyard import audit, i18n
from frontyard.auth import Role
from frontyard.database import utcnow
from frontyard.exceptions import NotFound
from frontyard.guards import current_user, require_role
from frontyard.i18n import gettext as _
from frontyard.templating import render
from frontyard.transactions import in_transaction
from kiosk import pre_entry
from kiosk.details_rows import labelled_details
from kiosk.pre_entry_limits import count_wrong_code, refuse_code_guessing
from kiosk.routes.common import NO_STORE, go, read_form


def _page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    response = render(request, "kiosk/forms/code.html", {
        "typed": "", "error": None, "found": None, **context}, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


@require_role(Role.STAFF)
async def code_lookup(request: Request) -> Response:
    """The lookup form."""
    return _page(request, {})


@require_role(Role.STAFF)
async def code_lookup_submit(request: Request) -> Response:
    """Find a code: its details (audited), its visit's page, or a message in place."""
    form = await read_form(request)
    typed = str(form.get("code", ""))[:64] if form is not None else ""
    refuse_code_guessing(request)  # per staff member: a stolen session cannot sweep codes
    code = pre_entry.normalise_code(typed)
    if code is None:
        return _page(request, {"typed": typed, "error": _(
            "A code has 8 letters and digits, such as ABCD-EFGH (there is no 0, 1, I, L or "
            "O).")}, status_code=422)
    user = current_user(request)
    retention_days = request.app.state.settings.pre_entry_retention_days

    def work(session: Session) -> tuple[pre_entry.PreEntry, str | None] | None:
        try:
            found = pre_entry.find(session, code)
        except NotFound:
            return None
        if found.visit_id is not None:
            visit = session.get(Visit, found.visit_id)
            return found, visit.public_id if visit is not None else None
        if pre_entry.expires_at(found, retention_days) <= utcnow():
            return None
        audit.record(session, user.id if user else None, "pre_entry_viewed", None,
                     pre_entry=found.id)
        return found, None

    outcome = await in_transaction(request, work)
    if outcome is None:
        count_wrong_code(request)
        return _page(request, {"typed": typed, "error": _(
            "This code is not known. Check it and type it again, or ask staff.")},
            status_code=422)
    found, public_id = outcome
    if found.visit_id is not None:
        if public_id is None:
            return _page(request, {"typed": typed, "error": _("This ticket does not exist.")},
                         status_code=422)
        return go(f"/forms/visit/{public_id}")
    return _page(request, {"typed": typed, "found": found,
                           "code": pre_entry.format_code(found.code),
                           "presented": labelled_details(found.details or {}),
                           "resident_language": i18n.BY_CODE.get(found.locale)})
