"""Kiosks and call boards as an admin manages them: add, list with last-seen time, revoke,
re-pair; every change audited with before and after (never a token or pairing code).

Plain functions on a database session (no HTTP), shared by the admin pages and the
`frontyard device` commands. The caller commits; on an error nothing has been written.
Revoking or re-pairing announces the old owner's revocation, so its open sockets close in
every worker when the transaction commits (`frontyard.revocation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, func, select

from counter.models import Office
from frontyard import audit
from frontyard.auth import Device, DeviceKind, create_device, renew_device
from frontyard.exceptions import NotFound, ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.realtime import Hub
from frontyard.revocation import announce_revoked, device_owner

MAX_NAME = 64


@dataclass(frozen=True)
class DeviceRow:
    """One line of the device list."""

    id: int
    name: str
    kind: DeviceKind
    office: str
    revoked: bool
    waiting_to_pair: bool
    last_seen_at: datetime | None


def snapshot(device: Device) -> dict[str, Any]:
    """What the audit log keeps of a device (never its token or pairing code)."""
    return {"name": device.name, "kind": device.kind.value, "office_id": device.office_id,
            "revoked": device.revoked}


def list_devices(session: Session) -> list[DeviceRow]:
    """Every device with its office's code, live ones first, by name."""
    rows = session.exec(select(Device, Office.code)
                        .join(Office, Device.office_id == Office.id, isouter=True)  # type: ignore[arg-type]
                        .order_by(Device.revoked, Device.name))  # type: ignore[arg-type]
    return [DeviceRow(device.id, device.name, device.kind, code or "", device.revoked,  # type: ignore[arg-type]
                      device.pairing_code_hash is not None, device.last_seen_at)
            for device, code in rows]


def find_device(session: Session, device_id: int | None = None, name: str | None = None) -> Device:
    """The device with this id or name, or NotFound."""
    device = session.get(Device, device_id) if device_id is not None else session.exec(
        select(Device).where(Device.name == name)).first()
    if device is None:
        raise NotFound(_("There is no such device."))
    return device


def add_device(session: Session, actor_id: int | None, name: str, kind: str,
               office_code: str) -> tuple[Device, str]:
    """A new device of an office; returns it with its one-time pairing code."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        message = _("A device name has 1 to %(count)s characters.") % {"count": MAX_NAME}
        raise ValidationFailed(message, name=message)
    if session.exec(select(Device).where(func.lower(Device.name) == name.lower())).first():
        message = _("A device named %(name)s exists already.") % {"name": name}
        raise ValidationFailed(message, name=message)
    try:
        device_kind = DeviceKind(kind)
    except ValueError:
        message = _("Choose kiosk or call board.")
        raise ValidationFailed(message, kind=message) from None
    office = session.exec(select(Office).where(Office.code == office_code)).first()
    if office is None:
        message = _("Choose one of the offices.")
        raise ValidationFailed(message, office=message)
    device, _token, code = create_device(session, name, device_kind, office_id=office.id)
    audit.record(session, actor_id, "device_added", None, device=device.name, before=None,
                 after=snapshot(device))
    return device, code


def revoke(session: Session, hub: Hub, actor_id: int | None, device: Device) -> bool:
    """Refuse the device from now on and close its open screens; whether anything changed."""
    if device.revoked:
        return False
    before = snapshot(device)
    device.revoked, device.pairing_code_hash = True, None
    session.add(device)
    announce_revoked(session, hub, device_owner(device.id))  # type: ignore[arg-type]
    audit.record(session, actor_id, "device_revoked", None, device=device.name, before=before,
                 after=snapshot(device))
    return True


def repair(session: Session, hub: Hub, actor_id: int | None, device: Device) -> str:
    """A new pairing code (returned) and token for the device; the old token dies at once."""
    before = snapshot(device)
    _token, code = renew_device(session, device)
    announce_revoked(session, hub, device_owner(device.id))  # type: ignore[arg-type]
    audit.record(session, actor_id, "device_repaired", None, device=device.name, before=before,
                 after=snapshot(device))
    return code
