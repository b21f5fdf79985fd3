"""Call boards as an admin sets them up: which calls each board shows (every call, those of
some services, or those to the counters of one floor or zone) and its languages (Japanese
first, then one or more that take turns). Every change is audited with before and after, and
closes the board's open screen, which reconnects at once with its new settings.

Plain functions on a database session (no HTTP), shared by the admin page, the
`frontyard board` commands and the configuration file (`CONFIG_SECTION`). The caller commits;
on an error nothing has been written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from admin import checks
from admin.services import services
from counter import board_settings
from counter.board_settings import ROTATING_LANGUAGES, BoardScope
from counter.models import Office
from frontyard import audit
from frontyard.auth import Device, DeviceKind
from frontyard.errors import NotFound, ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.realtime import Hub
from frontyard.revocation import announce_revoked, device_owner

CONFIG_SECTION = "boards"


@dataclass
class BoardInput:
    """What a form, a command or a configuration file gives for a board: `scope` is all,
    services or zone; `services` are service codes; `languages` follow Japanese, in order."""

    scope: str = BoardScope.ALL.value
    services: list[str] = field(default_factory=list)
    zone: str = ""
    languages: list[str] = field(default_factory=lambda: list(board_settings.DEFAULT_LANGUAGES))


def boards(session: Session) -> list[Device]:
    """Every call board device, live ones first, by name."""
    return list(session.exec(select(Device).where(Device.kind == DeviceKind.BOARD)
                             .order_by(Device.revoked, Device.name)))  # type: ignore[arg-type]


def board_by(session: Session, device_id: int | None = None, name: str | None = None) -> Device:
    """The call board with this id or name, or NotFound (a kiosk is not a board)."""
    device = session.get(Device, device_id) if device_id is not None else session.exec(
        select(Device).where(Device.name == name)).first()
    if device is None or device.kind != DeviceKind.BOARD:
        raise NotFound(_("There is no such call board."))
    return device


def input_of(session: Session, device: Device) -> BoardInput:
    """A board's current settings, to edit (a board without settings shows everything)."""
    setting = board_settings.setting_of(session, device.id)  # type: ignore[arg-type]
    if setting is None:
        return BoardInput()
    codes = board_settings.service_codes(
        session, board_settings.service_ids_of(session, device.id))  # type: ignore[arg-type]
    return BoardInput(scope=BoardScope(setting.scope).value, services=sorted(codes.values()),
                      zone=setting.zone, languages=list(setting.languages))


def snapshot(session: Session, device: Device) -> dict[str, Any]:
    """What the audit log keeps of a board's settings."""
    data = input_of(session, device)
    return {"scope": data.scope, "services": data.services, "zone": data.zone,
            "languages": data.languages}


def _office(session: Session, device: Device, problems: checks.Problems) -> Office | None:
    office = session.get(Office, device.office_id) if device.office_id else None
    if office is None:
        problems["scope"] = _("This board has no office: re-create it for an office first.")
    return office


def _check(session: Session, device: Device,
           data: BoardInput) -> tuple[BoardScope, list[int], str, list[str]]:
    """The clean settings, or ValidationFailed naming every problem."""
    problems: checks.Problems = {}
    office = _office(session, device, problems)
    try:
        scope = BoardScope(data.scope)
    except ValueError:
        scope = BoardScope.ALL
        problems["scope"] = _("Choose what the board shows: every call, some services or one "
                              "zone.")
    service_ids: list[int] = []
    zone = " ".join(data.zone.split())
    if office is not None:
        by_code = {service.code: service.id for service in services(session, office)}
        codes = list(dict.fromkeys(code.strip() for code in data.services if code.strip()))
        unknown = [code for code in codes if code not in by_code]
        if unknown:
            problems["services"] = _("%(codes)s: not a service of office %(office)s.") % {
                "codes": ", ".join(unknown)[:80], "office": office.code}
        elif scope == BoardScope.SERVICES and not codes:
            problems["services"] = _("Choose at least one service for this board.")
        if scope == BoardScope.SERVICES:
            service_ids = [by_code[code] for code in codes if code in by_code]  # type: ignore[misc]
        zones = board_settings.office_zones(session, office.id)  # type: ignore[arg-type]
        if scope == BoardScope.ZONE and not zone:
            problems["zone"] = _("Choose the zone whose calls this board shows.")
        elif scope == BoardScope.ZONE and zone not in zones:
            problems["zone"] = _("No counter of office %(office)s is in zone %(zone)s.") % {
                "office": office.code, "zone": zone[:64]}
    languages = list(dict.fromkeys(code.strip() for code in data.languages if code.strip()))
    unknown_languages = [code for code in languages if code not in ROTATING_LANGUAGES]
    if unknown_languages:
        problems["languages"] = _("Unknown language: %(code)s") % {
            "code": ", ".join(unknown_languages)[:40]}
    elif len(languages) < len([code for code in data.languages if code.strip()]):
        problems["languages"] = _("Each language can be chosen once.")
    elif not languages:
        problems["languages"] = _("Choose at least one language after Japanese.")
    checks.raise_if(problems)
    return scope, service_ids, zone if scope == BoardScope.ZONE else "", languages


def save_board(session: Session, hub: Hub, actor_id: int | None, device: Device,
               data: BoardInput) -> None:
    """Set what a board shows and its languages; audited; its open screen reconnects with
    them once the transaction commits."""
    checked = _check(session, device, data)
    before = _stored(session, device)
    board_settings.replace_settings(session, device.id, *checked)  # type: ignore[arg-type]
    _audit(session, hub, actor_id, device, before)


def _stored(session: Session, device: Device) -> dict[str, Any] | None:
    """The board's settings as audited, or None when it has none."""
    if board_settings.setting_of(session, device.id) is None:  # type: ignore[arg-type]
        return None
    return snapshot(session, device)


def _audit(session: Session, hub: Hub, actor_id: int | None, device: Device,
           before: dict[str, Any] | None) -> None:
    """Audit a change of the board's settings, if there was one, and reconnect its screens."""
    after = _stored(session, device)
    if before != after:
        audit.record(session, actor_id, "board_changed", None, device=device.name,
                     office_id=device.office_id, before=before, after=after)
        reconnect(session, hub, device)


def reconnect(session: Session, hub: Hub, device: Device) -> None:
    """Close the board's open screens when this transaction commits: they reconnect at once
    (the screen's own retry) and read the new settings (in every worker on PostgreSQL)."""
    announce_revoked(session, hub, device_owner(device.id))  # type: ignore[arg-type]


# -- The configuration file (`frontyard config export / import`) ------------------------------


def export_config(session: Session, office: Office) -> Any:
    """The office's boards that have settings, by device name: plain YAML-able data."""
    result = []
    for device in sorted(boards(session), key=lambda device: device.name):
        if device.office_id != office.id or board_settings.setting_of(
                session, device.id) is None:  # type: ignore[arg-type]
            continue
        data = input_of(session, device)
        item: dict[str, Any] = {"device": device.name, "shows": data.scope}
        if data.scope == BoardScope.SERVICES:
            item["services"] = data.services
        if data.scope == BoardScope.ZONE:
            item["zone"] = data.zone
        item["languages"] = data.languages
        result.append(item)
    return result


def _where(index: int, key: str | None = None) -> str:
    return f"{CONFIG_SECTION}[{index}]" + (f".{key}" if key else "")


def _list_of_text(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationFailed(_("%(where)s: expected a list.") % {"where": where})
    return list(value)


def import_config(session: Session, office: Office, data: Any) -> None:
    """Replace the settings of the office's boards with `data` (as `export_config` gives it);
    boards not listed show everything. ValidationFailed names the place of a problem."""
    if data is None:
        data = []
    if not isinstance(data, list):
        raise ValidationFailed(_("%(where)s: expected a list.") % {"where": CONFIG_SECTION})
    mine = {device.name: device for device in boards(session) if device.office_id == office.id}
    chosen: list[tuple[Device, BoardInput]] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("device"), str):
            raise ValidationFailed(_("%(where)s: expected text.") % {
                "where": _where(index, "device")})
        extra = sorted(set(item) - {"device", "shows", "services", "zone", "languages"})
        if extra:
            raise ValidationFailed(_("%(where)s: unknown key %(key)s.") % {
                "where": _where(index), "key": ", ".join(str(key) for key in extra)[:40]})
        device = mine.get(item["device"])
        if device is None or device in (board for board, _data in chosen):
            raise ValidationFailed(_("%(where)s: no other call board of office %(office)s is "
                                     "named %(name)s.") % {"where": _where(index, "device"),
                                                           "office": office.code,
                                                           "name": item["device"][:64]})
        zone = item.get("zone", "")
        if not isinstance(zone, str) or not isinstance(item.get("shows", "all"), str):
            raise ValidationFailed(_("%(where)s: expected text.") % {
                "where": _where(index, "zone")})
        board = BoardInput(scope=item.get("shows", "all"),
                           services=_list_of_text(item.get("services", []),
                                                  _where(index, "services")),
                           zone=zone, languages=_list_of_text(item.get("languages", []),
                                                              _where(index, "languages")))
        try:
            _check(session, device, board)
        except ValidationFailed as error:
            field_name = next(iter(error.fields or {}), None)
            raise ValidationFailed(f"{_where(index, field_name)}: {error.message}") from None
        chosen.append((device, board))
    hub = Hub()  # on PostgreSQL this reaches every worker; on SQLite, the next reconnect
    before = {device.name: _stored(session, device) for device in mine.values()}
    for device in mine.values():
        board_settings.clear_settings(session, device.id)  # type: ignore[arg-type]
    for device, board in chosen:
        board_settings.replace_settings(session, device.id,  # type: ignore[arg-type]
                                        *_check(session, device, board))
    for device in mine.values():
        _audit(session, hub, None, device, before[device.name])


def board_rows(session: Session) -> list[tuple[Device, str, BoardInput]]:
    """Each call board with its office's code and settings, for the list and the command."""
    codes = {office.id: office.code for office in session.exec(select(Office))}
    return [(device, codes.get(device.office_id, ""), input_of(session, device))
            for device in boards(session)]

