"""The admin page of one call board: which calls it shows (every call, some services', one
zone's) and its languages after Japanese, in the order they take turns. Thin: the rules live
in `admin.boards`."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin import boards
from admin.services import services
from counter import board_settings
from counter.models import Office
from frontyard import database
from frontyard.auth import Role
from frontyard.errors import ValidationFailed
from frontyard.guards import current_user, require_role
from frontyard.i18n import BY_CODE
from frontyard.templating import render

MAX_FIELD = 64
#: At most this many values of one repeated field are read (one per service or language).
MAX_VALUES = 200


def _values(form: FormData, name: str) -> list[str]:
    return [str(value)[:MAX_FIELD] for value in form.getlist(name)[:MAX_VALUES]]


def board_input(form: FormData) -> boards.BoardInput:
    """The settings a submitted form gives (checked by `admin.boards`)."""
    return boards.BoardInput(scope=str(form.get("scope", ""))[:MAX_FIELD],
                             services=_values(form, "services"),
                             zone=str(form.get("zone", ""))[:MAX_FIELD],
                             languages=_values(form, "language"))


def _context(session: Session, device_id: int) -> dict[str, Any]:
    device = boards.board_by(session, device_id)
    office = session.get(Office, device.office_id) if device.office_id else None
    zones = board_settings.office_zones(session, office.id) if office else []  # type: ignore[arg-type]
    data = boards.input_of(session, device)
    return {"device": device, "office": office, "data": data, "zones": zones,
            "services": services(session, office) if office else [],
            "rotating": [BY_CODE[code] for code in board_settings.ROTATING_LANGUAGES],
            "japanese": BY_CODE["ja"],
            "zone_missing": data.scope == "zone" and data.zone not in zones}


def _in_session(request: Request, work: Any) -> Any:
    with database.session_scope(request.app.state.engine) as session:
        return work(session)


@require_role(Role.ADMIN)
async def board_page(request: Request) -> Response:
    """GET shows the board's settings; POST saves them and comes back, or shows the form again
    with every problem (422, every entry kept, nothing saved)."""
    device_id = request.path_params["device_id"]
    context = await run_in_threadpool(_in_session, request, lambda s: _context(s, device_id))
    context |= {"problems": {}, "message": None, "values": None,
                "saved": request.query_params.get("saved") == "1"}
    if request.method == "GET":
        return render(request, "admin/board.html", context)
    form = await request.form()
    user = current_user(request)

    def save(session: Session) -> None:
        boards.save_board(session, request.app.state.hub, user.id if user else None,
                          boards.board_by(session, device_id), board_input(form))

    try:
        await run_in_threadpool(_in_session, request, save)
    except ValidationFailed as error:
        return render(request, "admin/board.html",
                      context | {"problems": error.fields, "message": error.message,
                                 "values": form, "saved": False}, status_code=422)
    return RedirectResponse(f"/admin/devices/{device_id}/board?saved=1", status_code=303)


routes = [
    Route("/admin/devices/{device_id:int}/board", board_page, methods=["GET", "POST"],
          name="admin_board"),
]
