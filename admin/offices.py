"""Offices: creating and changing them (code, names, address), each change audited."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from admin import checks
from counter.models import Office
from frontyard import audit
from frontyard.errors import NotFound
from frontyard.i18n import gettext as _

MAX_ADDRESS = 200
AUDITED = ("code", "names", "address")


@dataclass
class OfficeInput:
    """What a form or a command gives for an office."""

    code: str
    names: dict[str, str] = field(default_factory=dict)
    address: str = ""


def offices(session: Session) -> list[Office]:
    """Every office, by code."""
    return list(session.exec(select(Office).order_by(col(Office.code))))


def office_by_code(session: Session, code: str) -> Office:
    """The office with this code, or NotFound."""
    office = session.exec(select(Office).where(Office.code == code)).first()
    if office is None:
        raise NotFound(_("There is no office with the code %(code)s.") % {"code": code[:32]})
    return office


def input_of(office: Office) -> OfficeInput:
    """An office's current values, to edit."""
    return OfficeInput(code=office.code, names=dict(office.names), address=office.address)


def save_office(session: Session, user_id: int | None, data: OfficeInput,
                office: Office | None = None) -> Office:
    """Create an office, or change `office`; raises ValidationFailed listing every problem."""
    problems: checks.Problems = {}
    code = checks.code(data.code, "code", problems)
    names = checks.names(data.names, problems)
    address = checks.text(data.address, "address", MAX_ADDRESS, problems)
    if "code" not in problems:
        same = session.exec(select(Office).where(Office.code == code)).first()
        if same is not None and same is not office:
            problems["code"] = _("Another office already has the code %(code)s.") % {"code": code}
    checks.raise_if(problems)
    before = checks.snapshot(office, AUDITED) if office else None
    office = office or Office(code=code)
    office.code, office.names, office.address = code, names, address
    session.add(office)
    session.flush()
    audit.record(session, user_id, "office_changed" if before else "office_created", None,
                 office_id=office.id, before=before, after=checks.snapshot(office, AUDITED))
    return office
