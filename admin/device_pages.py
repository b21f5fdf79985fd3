"""Admin pages for kiosks and call boards: the list with last-seen times, a new device, revoke
and re-pair; a new pairing code is shown once, as text, link and QR code. Thin: the rules live
in `admin.devices`."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin import devices
from counter.models import Office
from frontyard.auth import Device, DeviceKind, Role
from frontyard.exceptions import DomainError
from frontyard.guards import current_user, db, require_role
from frontyard.i18n import gettext as _
from frontyard.qr import qr_data_url
from frontyard.templating import render

MAX_FIELD = 256


def _actor(request: Request) -> int | None:
    user = current_user(request)
    return user.id if user else None


def _pairing(request: Request, device: Device, code: str) -> dict[str, Any]:
    """The one-time pairing code as text, link and QR code (none of it is stored)."""
    link = f"{request.app.state.settings.base_url.rstrip('/')}/device/pair/{code}"
    return {"device": device.name, "code": code, "link": link, "qr": qr_data_url(link)}


def _page(request: Request, extra: dict[str, Any] | None = None,
          status_code: int = 200) -> Response:
    with db(request) as session:
        rows = devices.list_devices(session)
        offices = session.exec(select(Office.code).order_by(Office.code)).all()  # type: ignore[arg-type]
    context = {"devices": rows, "offices": offices, "kinds": list(DeviceKind), "error": None,
               "fields": {}, "form": {}, "pairing": None, "notice": None, **(extra or {})}
    return render(request, "admin/devices.html", context, status_code=status_code)


@require_role(Role.ADMIN)
async def device_list(request: Request) -> Response:
    """Every device with its office, state and when it was last seen."""
    return _page(request)


@require_role(Role.ADMIN)
async def device_create(request: Request) -> Response:
    """Add a device and show its pairing code once."""
    form = {key: str(value)[:MAX_FIELD] for key, value in (await request.form()).items()}
    try:
        with db(request) as session:  # left (and rolled back) before the page is read
            device, code = devices.add_device(session, _actor(request), form.get("name", ""),
                                              form.get("kind", ""), form.get("office", ""))
            session.commit()
    except DomainError as error:
        return _page(request, {"error": error, "fields": error.fields, "form": form},
                     status_code=error.status_code)
    return _page(request, {"pairing": _pairing(request, device, code)})


@require_role(Role.ADMIN)
async def device_revoke(request: Request) -> Response:
    """Refuse the device from now on; its open screens close at once."""
    with db(request) as session:
        device = devices.find_device(session, request.path_params["device_id"])
        devices.revoke(session, request.app.state.hub, _actor(request), device)
        session.commit()
    return _page(request, {"notice": _("%(name)s is revoked: it can no longer connect.") % {
        "name": device.name}})


@require_role(Role.ADMIN)
async def device_repair(request: Request) -> Response:
    """A new pairing code for the device; its old pairing stops working at once."""
    with db(request) as session:
        device = devices.find_device(session, request.path_params["device_id"])
        code = devices.repair(session, request.app.state.hub, _actor(request), device)
        session.commit()
    return _page(request, {"pairing": _pairing(request, device, code)})


routes = [
    Route("/admin/devices", device_list, methods=["GET"], name="admin_devices"),
    Route("/admin/devices", device_create, methods=["POST"]),
    Route("/admin/devices/{device_id:int}/revoke", device_revoke, methods=["POST"]),
    Route("/admin/devices/{device_id:int}/repair", device_repair, methods=["POST"]),
]
