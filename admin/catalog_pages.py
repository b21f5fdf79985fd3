"""Admin pages of an office's procedure catalog: its versions, upload, download, each
version's problems (with their YAML lines), publish and roll back. Thin: the rules live in
`admin.catalogs` and `kiosk.catalog_versions`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin import catalogs
from admin import offices as office_domain
from counter.models import Office
from frontyard import database
from frontyard.auth import Role, User
from frontyard.errors import DomainError, ValidationFailed
from frontyard.guards import current_user, require_role
from frontyard.i18n import gettext as _
from frontyard.i18n import translated
from frontyard.templating import render
from kiosk.catalog import Problem
from kiosk.catalog_serving import check_version, served_catalog
from kiosk.catalog_versions import (
    MAX_CATALOG_BYTES,
    CatalogVersion,
    VersionState,
    previous_published,
    version_by_number,
    versions,
)

MAX_FIELD = 256


def user_id_of(request: Request) -> int | None:
    user = current_user(request)
    return user.id if user else None


def in_session(request: Request, work: Callable[[Session], Any]) -> Any:
    """Run `work` in one transaction: all of it is stored, or (on an error) nothing."""
    with database.session_scope(request.app.state.engine) as session:
        return work(session)


def _base(request: Request) -> str:
    return f"/admin/offices/{request.path_params['code']}/catalog"


def problem_rows(problems: list[Problem], text: str | None) -> list[dict[str, Any]]:
    """Problems for a page: line, place, message (in the admin's language), and the line of
    YAML itself."""
    lines = text.splitlines() if text else []
    return [{"line": problem.line, "place": problem.place,
             "message": translated(problem.message),
             "source": lines[problem.line - 1][:160]
             if problem.line and problem.line <= len(lines) else ""}
            for problem in problems]


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [user_id for user_id in ids if user_id is not None]
    rows = session.exec(select(User.id, User.username).where(col(User.id).in_(wanted))).all()
    return {user_id: name for user_id, name in rows if user_id is not None}


def _home_context(session: Session, code: str) -> dict[str, Any]:
    office = office_domain.office_by_code(session, code)
    served = served_catalog(session, office)
    rows = versions(session, office)
    return {"office": office, "versions": rows, "served": served,
            "served_problems": problem_rows(served.problems, served.published.yaml_text
                                            if served.published else None),
            "previous": previous_published(session, office),
            "users": _names(session, {row.created_by for row in rows}
                            | {row.published_by for row in rows}),
            "max_kb": MAX_CATALOG_BYTES // 1000, "upload_problems": [], "message": None}


async def _read_upload(request: Request) -> tuple[bytes | None, str, bool]:
    """The uploaded file's bytes (at most one byte past the limit), note and publish flag;
    None when nothing or something unreadable was sent."""
    try:
        form = await request.form(max_files=1, max_fields=10, max_part_size=64 * 1024)
    except (HTTPException, MultiPartException):
        return None, "", False
    note = str(form.get("note", ""))[:MAX_FIELD]
    publish_now = form.get("publish") == "on"
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return None, note, publish_now
    data = await upload.read(MAX_CATALOG_BYTES + 1)
    await form.close()
    return data, note, publish_now


@require_role(Role.ADMIN)
async def catalog_home(request: Request) -> Response:
    """The office's catalog: versions, what the kiosk serves, and the upload form."""
    code = request.path_params["code"]
    if request.method == "GET":
        context = await run_in_threadpool(in_session, request,
                                          lambda s: _home_context(s, code))
        return render(request, "admin/catalog.html", context)
    data, note, publish_now = await _read_upload(request)

    def work(session: Session) -> catalogs.Saved:
        office = office_domain.office_by_code(session, code)
        if data is None:
            message = _("Choose a YAML file to upload.")
            raise ValidationFailed(message, file=message)
        return catalogs.upload(session, user_id_of(request), office, data, note, publish_now)

    try:
        saved = await run_in_threadpool(in_session, request, work)
    except ValidationFailed as error:
        context = await run_in_threadpool(in_session, request,
                                          lambda s: _home_context(s, code))
        problems = getattr(error, "problems", [])
        return render(request, "admin/catalog.html", context | {
            "message": error.message, "upload_problems": problem_rows(problems, None)},
            status_code=422)
    target = f"{_base(request)}/{saved.version.number}"
    if publish_now and not saved.published:
        return await version_response(request, saved.version.number, status_code=422, message=_(
            "Saved as a draft, not published: this version has problems."))
    return RedirectResponse(target, status_code=303)


def _version_context(session: Session, code: str, number: int) -> dict[str, Any]:
    office = office_domain.office_by_code(session, code)
    version = version_by_number(session, office, number)
    result = check_version(session, office, version)
    served = served_catalog(session, office)
    return {"office": office, "version": version, "result": result,
            "problems": problem_rows(result.problems, version.yaml_text),
            "warnings": problem_rows(result.warnings, version.yaml_text),
            "serving": served.version is not None and served.version.id == version.id,
            "users": _names(session, {version.created_by, version.published_by}),
            "states": VersionState}


async def version_response(request: Request, number: int, status_code: int = 200,
                            message: Any = None) -> Response:
    code = request.path_params["code"]
    context = await run_in_threadpool(in_session, request,
                                      lambda s: _version_context(s, code, number))
    return render(request, "admin/catalog_version.html", context | {"message": message},
                  status_code=status_code)


@require_role(Role.ADMIN)
async def version_page(request: Request) -> Response:
    """One version: who saved it and when, its state, and its problems with their lines."""
    return await version_response(request, request.path_params["number"])


@require_role(Role.ADMIN)
async def version_download(request: Request) -> Response:
    """A version's YAML exactly as stored."""
    code, number = request.path_params["code"], request.path_params["number"]

    def read(session: Session) -> tuple[Office, CatalogVersion]:
        office = office_domain.office_by_code(session, code)
        return office, version_by_number(session, office, number)

    office, version = await run_in_threadpool(in_session, request, read)
    filename = f"catalog-{office.code}-v{version.number}.yaml"
    return Response(version.yaml_text.encode("utf-8"), media_type="application/yaml",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@require_role(Role.ADMIN)
async def version_publish(request: Request) -> Response:
    """Publish a version (an older one again: as a new version); a broken one is refused."""
    code, number = request.path_params["code"], request.path_params["number"]

    def work(session: Session) -> CatalogVersion:
        office = office_domain.office_by_code(session, code)
        return catalogs.publish_number(session, user_id_of(request), office, number)

    try:
        version = await run_in_threadpool(in_session, request, work)
    except DomainError as error:
        if error.status_code == 404:
            raise
        return await version_response(request, number, status_code=error.status_code,
                                       message=error.message)
    return RedirectResponse(f"{_base(request)}/{version.number}", status_code=303)


@require_role(Role.ADMIN)
async def catalog_rollback(request: Request) -> Response:
    """Publish again the version that was live before the current one."""
    code = request.path_params["code"]

    def work(session: Session) -> CatalogVersion:
        office = office_domain.office_by_code(session, code)
        return catalogs.rollback(session, user_id_of(request), office)

    try:
        version = await run_in_threadpool(in_session, request, work)
    except DomainError as error:
        if error.status_code == 404:
            raise
        context = await run_in_threadpool(in_session, request,
                                          lambda s: _home_context(s, code))
        return render(request, "admin/catalog.html", context | {"message": error.message},
                      status_code=error.status_code)
    return RedirectResponse(f"{_base(request)}/{version.number}", status_code=303)


routes = [
    Route("/admin/offices/{code}/catalog", catalog_home, methods=["GET", "POST"],
          name="admin_catalog"),
    Route("/admin/offices/{code}/catalog/rollback", catalog_rollback, methods=["POST"],
          name="admin_catalog_rollback"),
    Route("/admin/offices/{code}/catalog/{number:int}", version_page,
          name="admin_catalog_version"),
    Route("/admin/offices/{code}/catalog/{number:int}/download", version_download,
          name="admin_catalog_download"),
    Route("/admin/offices/{code}/catalog/{number:int}/publish", version_publish,
          methods=["POST"], name="admin_catalog_publish"),
]
