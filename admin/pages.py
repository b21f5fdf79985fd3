"""Admin pages for the city's structure: the admin's home, offices, services, counters and
which services each staff member serves. Thin: the rules live in the domain modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin import counters as counter_domain
from admin import offices as office_domain
from admin import services as service_domain
from admin import setup
from counter.models import ServiceKind
from frontyard import database
from frontyard.auth import Role, User
from frontyard.errors import ValidationFailed
from frontyard.guards import current_user, require_role
from frontyard.i18n import LANGUAGES
from frontyard.templating import render

MAX_FIELD = 256


def _field(form: FormData, name: str) -> str:
    return str(form.get(name, ""))[:MAX_FIELD]


def _names(form: FormData) -> dict[str, str]:
    return {language.code: _field(form, f"name_{language.code}") for language in LANGUAGES}


def _user_id(request: Request) -> int | None:
    user = current_user(request)
    return user.id if user else None


def _in_session(request: Request, work: Callable[[Session], Any]) -> Any:
    """Run `work` in one transaction: all of it is stored, or (on an error) nothing."""
    with database.session_scope(request.app.state.engine) as session:
        return work(session)


async def _form_page(request: Request, template: str, read: Callable[[Session], dict[str, Any]],
                     save: Callable[[Session, FormData], str]) -> Response:
    """GET shows the form; POST saves and redirects, or shows the form again with the problems
    (422, every entry kept)."""
    context = await run_in_threadpool(_in_session, request, read)
    if request.method == "GET":
        return render(request, template,
                      context | {"problems": {}, "message": None, "values": None})
    form = await request.form()
    try:
        target = await run_in_threadpool(_in_session, request, lambda s: save(s, form))
    except ValidationFailed as error:
        return render(request, template,
                      context | {"problems": error.fields, "message": error.message,
                                 "values": form}, status_code=422)
    return RedirectResponse(target, status_code=303)


@require_role(Role.ADMIN)
async def admin_home(request: Request) -> Response:
    """The admin's home: the set-up walkthrough (admin.setup) and every admin page."""
    steps = await run_in_threadpool(_in_session, request, setup.setup_steps)
    return render(request, "admin/home.html",
                  {"steps": steps, "next_step": setup.next_step(steps)})


@require_role(Role.ADMIN)
async def office_list(request: Request) -> Response:
    """Every office, and the form to add one."""
    def save(session: Session, form: FormData) -> str:
        office = office_domain.save_office(session, _user_id(request), office_domain.OfficeInput(
            code=_field(form, "code"), names=_names(form), address=_field(form, "address")))
        return f"/admin/offices/{office.code}"

    return await _form_page(request, "admin/offices.html",
                            lambda s: {"offices": office_domain.offices(s)}, save)


@require_role(Role.ADMIN)
async def office_page(request: Request) -> Response:
    """One office: its details form, its services and its counters."""
    code = request.path_params["code"]

    def read(session: Session) -> dict[str, Any]:
        office = office_domain.office_by_code(session, code)
        return {"office": office, "data": office_domain.input_of(office),
                "services": service_domain.services(session, office),
                "counters": counter_domain.counters(session, office),
                "kind_labels": service_domain.KIND_LABELS}

    def save(session: Session, form: FormData) -> str:
        office = office_domain.office_by_code(session, code)
        office = office_domain.save_office(session, _user_id(request), office_domain.OfficeInput(
            code=_field(form, "code"), names=_names(form), address=_field(form, "address")),
            office)
        return f"/admin/offices/{office.code}"

    return await _form_page(request, "admin/office.html", read, save)


def _office_and(session: Session, code: str, which: str,
                lookup: Callable[[Session, Any, str], Any]) -> tuple[Any, Any]:
    """The office and the service or counter the address names (None for `new`)."""
    office = office_domain.office_by_code(session, code)
    return office, None if which == "new" else lookup(session, office, which)


def _service_input(form: FormData) -> service_domain.ServiceInput:
    return service_domain.ServiceInput(
        code=_field(form, "code"), prefix=_field(form, "prefix"), names=_names(form),
        sort_order=_field(form, "sort_order") or "0", colour=_field(form, "colour"),
        kind=_field(form, "kind"), active=form.get("active") == "on")


@require_role(Role.ADMIN)
async def service_page(request: Request) -> Response:
    """Add a service to an office (`new`) or change one."""
    code, which = request.path_params["code"], request.path_params["service"]

    def read(session: Session) -> dict[str, Any]:
        office, service = _office_and(session, code, which, service_domain.service_by_code)
        data = service_domain.input_of(service) if service else service_domain.ServiceInput(
            code="", prefix="", sort_order=len(service_domain.services(session, office)))
        return {"office": office, "service": service, "data": data, "kinds": list(ServiceKind),
                "kind_labels": service_domain.KIND_LABELS}

    def save(session: Session, form: FormData) -> str:
        office, service = _office_and(session, code, which, service_domain.service_by_code)
        service_domain.save_service(session, _user_id(request), office, _service_input(form),
                                    service)
        return f"/admin/offices/{office.code}"

    return await _form_page(request, "admin/service.html", read, save)


@require_role(Role.ADMIN)
async def counter_page(request: Request) -> Response:
    """Add a counter to an office (`new`) or change one."""
    code, which = request.path_params["code"], request.path_params["number"]

    def read(session: Session) -> dict[str, Any]:
        office, counter = _office_and(session, code, which, counter_domain.counter_by_number)
        data = counter_domain.input_of(session, counter) if counter else \
            counter_domain.CounterInput(number="")
        return {"office": office, "counter": counter, "data": data,
                "services": service_domain.services(session, office)}

    def save(session: Session, form: FormData) -> str:
        office, counter = _office_and(session, code, which, counter_domain.counter_by_number)
        counter_domain.save_counter(session, _user_id(request), office, counter_domain.CounterInput(
            number=_field(form, "number"), names=_names(form), zone=_field(form, "zone"),
            services=[str(value)[:32] for value in form.getlist("services")]), counter)
        return f"/admin/offices/{office.code}"

    return await _form_page(request, "admin/counter.html", read, save)


@require_role(Role.ADMIN)
async def staff_list(request: Request) -> Response:
    """Every user with the services they may serve."""
    def read(session: Session) -> dict[str, Any]:
        users = list(session.exec(select(User).order_by(User.username)))  # type: ignore[arg-type]
        return {"users": [(user, counter_domain.staff_service_codes(session, user))
                          for user in users]}

    return render(request, "admin/staff.html", await run_in_threadpool(_in_session, request, read))


@require_role(Role.ADMIN)
async def staff_page(request: Request) -> Response:
    """Which services of each office one person may serve."""
    name = request.path_params["username"]

    def read(session: Session) -> dict[str, Any]:
        user = counter_domain.user_by_name(session, name)
        return {"person": user, "chosen": set(counter_domain.staff_service_codes(session, user)),
                "offices": [(office, service_domain.services(session, office))
                            for office in office_domain.offices(session)]}

    def save(session: Session, form: FormData) -> str:
        user = counter_domain.user_by_name(session, name)
        chosen = [str(value)[:80] for value in form.getlist("services")]
        for office in office_domain.offices(session):
            codes = [value.partition("/")[2] for value in chosen
                     if value.partition("/")[0] == office.code]
            counter_domain.set_staff_services(session, _user_id(request), user, office, codes)
        return "/admin/staff"

    return await _form_page(request, "admin/person.html", read, save)


routes = [
    Route("/admin", admin_home, name="admin_home"),
    Route("/admin/offices", office_list, methods=["GET", "POST"], name="admin_offices"),
    Route("/admin/offices/{code}", office_page, methods=["GET", "POST"], name="admin_office"),
    Route("/admin/offices/{code}/services/{service}", service_page, methods=["GET", "POST"],
          name="admin_service"),
    Route("/admin/offices/{code}/counters/{number}", counter_page, methods=["GET", "POST"],
          name="admin_counter"),
    Route("/admin/staff", staff_list, name="admin_staff"),
    Route("/admin/staff/{username}", staff_page, methods=["GET", "POST"], name="admin_person"),
]

