"""The first-run walkthrough on the admin's home: office → services → counters → devices →
users, each step with its state and the page that does it, until the city is set up."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from counter.models import Counter, Office, Service
from frontyard.auth import Device, Role, User
from frontyard.i18n import gettext as _
from frontyard.i18n import ngettext


@dataclass(frozen=True)
class SetupStep:
    """One step of the walkthrough: what it is, whether it is done, and where to do it."""

    key: str
    title: str
    done: bool
    state: str
    href: str
    action: str


def _count(session: Session, statement: object) -> int:
    return int(session.exec(statement).one())  # type: ignore[call-overload]


def setup_steps(session: Session) -> list[SetupStep]:
    """The five steps in order, with today's state of each."""
    offices = list(session.exec(select(Office).order_by(col(Office.code))))
    services = _count(session, select(func.count()).select_from(Service)
                      .where(Service.active == True))  # noqa: E712
    counters = _count(session, select(func.count()).select_from(Counter))
    devices = _count(session, select(func.count()).select_from(Device)
                     .where(Device.revoked == False))  # noqa: E712
    people = _count(session, select(func.count()).select_from(User)
                    .where(User.role != Role.ADMIN, User.active == True))  # noqa: E712

    def office_page(part: str) -> str:
        """The page of the first office lacking `part` (services, counters), or the first."""
        if not offices:
            return "/admin/offices#new-office"
        table = Service if part == "services" else Counter
        for office in offices:
            if not _count(session, select(func.count()).select_from(table)
                          .where(table.office_id == office.id)):
                return f"/admin/offices/{office.code}/{part}/new"
        return f"/admin/offices/{offices[0].code}"

    not_yet = _("Not yet")
    return [
        SetupStep("office", _("Register your office"), bool(offices),
                  ngettext("%(num)d office", "%(num)d offices", len(offices)) % {
                      "num": len(offices)} if offices else not_yet,
                  "/admin/offices" if offices else "/admin/offices#new-office",
                  _("Offices")),
        SetupStep("services", _("Add the services residents queue for"), services > 0,
                  ngettext("%(num)d service", "%(num)d services", services) % {
                      "num": services} if services else not_yet,
                  office_page("services"), _("Add a service")),
        SetupStep("counters", _("Add the counters and the services each serves"), counters > 0,
                  ngettext("%(num)d counter", "%(num)d counters", counters) % {
                      "num": counters} if counters else not_yet,
                  office_page("counters"), _("Add a counter")),
        SetupStep("devices", _("Pair the kiosks and call boards"), devices > 0,
                  ngettext("%(num)d device", "%(num)d devices", devices) % {
                      "num": devices} if devices else not_yet,
                  "/admin/devices", _("Devices")),
        SetupStep("users", _("Create the staff accounts"), people > 0,
                  ngettext("%(num)d staff account", "%(num)d staff accounts", people) % {
                      "num": people} if people else not_yet,
                  "/admin/users", _("Users")),
    ]


def next_step(steps: list[SetupStep]) -> SetupStep | None:
    """The first step not done yet (None: the city is set up)."""
    return next((step for step in steps if not step.done), None)
