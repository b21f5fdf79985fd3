"""Admin pages for the catalog's common edits without YAML: hide or show life events and
procedures, and a procedure's "what to bring" and counter hint per language. Each saves a new
version from the published one and publishes it when it validates (else it stays a draft and
its page lists the problems). Thin: the rules live in `admin.catalogs`."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin import catalogs
from admin import offices as office_domain
from admin.catalog_pages import in_session, user_id_of, version_response
from frontyard.auth import Role
from frontyard.errors import NotFound, ValidationFailed
from frontyard.guards import require_role
from frontyard.i18n import LANGUAGES
from frontyard.i18n import gettext as _
from frontyard.templating import render
from kiosk.catalog import KIOSK_LOCALES

MAX_FIELD = 256


def _kiosk_languages() -> list[Any]:
    return [language for language in LANGUAGES if language.code in KIOSK_LOCALES]


def _published(session: Session, code: str) -> dict[str, Any]:
    office = office_domain.office_by_code(session, code)
    version, data = catalogs.published_data(session, office)
    return {"office": office, "version": version, "data": data}


async def _after_save(request: Request, saved: catalogs.Saved) -> Response:
    """The new version's page: published, or a draft with its problems (422)."""
    if saved.published:
        return RedirectResponse(f"/admin/offices/{request.path_params['code']}/catalog/"
                                f"{saved.version.number}", status_code=303)
    return await version_response(request, saved.version.number, status_code=422, message=_(
        "Saved as a draft, not published: this version has problems."))


@require_role(Role.ADMIN)
async def visibility_page(request: Request) -> Response:
    """Which life events the kiosk offers and which procedures it proposes."""
    code = request.path_params["code"]
    context = await run_in_threadpool(in_session, request, lambda s: _published(s, code))
    if request.method == "GET":
        return render(request, "admin/catalog_visibility.html", context | {"message": None})
    form = await request.form(max_fields=2000)
    events = [str(value)[:80] for value in form.getlist("event")]
    procedures = [str(value)[:80] for value in form.getlist("procedure")]

    def work(session: Session) -> catalogs.Saved:
        office = office_domain.office_by_code(session, code)
        return catalogs.set_visibility(session, user_id_of(request), office, events, procedures)

    try:
        saved = await run_in_threadpool(in_session, request, work)
    except ValidationFailed as error:
        return render(request, "admin/catalog_visibility.html",
                      context | {"message": error.message}, status_code=422)
    return await _after_save(request, saved)


@require_role(Role.ADMIN)
async def procedure_list(request: Request) -> Response:
    """The published catalog's procedures, each linking to its edit page."""
    code = request.path_params["code"]
    context = await run_in_threadpool(in_session, request, lambda s: _published(s, code))
    return render(request, "admin/catalog_procedures.html", context)


@require_role(Role.ADMIN)
async def procedure_page(request: Request) -> Response:
    """A procedure's documents to bring (and a new one) and its counter hint per language."""
    code, procedure_id = request.path_params["code"], request.path_params["procedure"]

    def read(session: Session) -> dict[str, Any]:
        context = _published(session, code)
        procedure = next((item for item in context["data"].get("procedures", [])
                          if item.get("id") == procedure_id), None)
        if procedure is None:
            raise NotFound(_("This procedure does not exist."))
        return context | {"procedure": procedure, "locales": _kiosk_languages(),
                          "problems": {}, "message": None, "values": None}

    context = await run_in_threadpool(in_session, request, read)
    if request.method == "GET":
        return render(request, "admin/catalog_procedure.html", context)
    form = await request.form(max_fields=500)
    documents = [str(value)[:80] for value in form.getlist("documents")]
    hint = {code_: str(form.get(f"hint_{code_}", ""))[:MAX_FIELD] for code_ in KIOSK_LOCALES}
    new = {code_: str(form.get(f"new_{code_}", ""))[:MAX_FIELD] for code_ in KIOSK_LOCALES}

    def work(session: Session) -> catalogs.Saved:
        office = office_domain.office_by_code(session, code)
        return catalogs.edit_procedure(session, user_id_of(request), office, procedure_id,
                                       documents, hint, new)

    try:
        saved = await run_in_threadpool(in_session, request, work)
    except ValidationFailed as error:
        return render(request, "admin/catalog_procedure.html", context | {
            "problems": error.fields, "message": error.message, "values": form},
            status_code=422)
    return await _after_save(request, saved)


routes = [
    Route("/admin/offices/{code}/catalog/visibility", visibility_page, methods=["GET", "POST"],
          name="admin_catalog_visibility"),
    Route("/admin/offices/{code}/catalog/procedures", procedure_list,
          name="admin_catalog_procedures"),
    Route("/admin/offices/{code}/catalog/procedures/{procedure}", procedure_page,
          methods=["GET", "POST"], name="admin_catalog_procedure"),
]
