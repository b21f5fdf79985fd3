"""The admin's page for the set-up as a file (admin.config_file): download the export, upload
a file and read what it would change before applying it. Thin: the rules are the CLI's."""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin import config_file
from frontyard.auth import Role
from frontyard.database import read_session
from frontyard.guards import current_user, db, require_role
from frontyard.i18n import gettext as _
from frontyard.templating import render

#: The largest file taken (a city's set-up is a few kilobytes; the text comes back once more
#: in the preview's form, where Starlette allows fields up to 1 MiB).
MAX_BYTES = 512 * 1024


def _page(request: Request, status_code: int = 200, **context: object) -> Response:
    values = {"report": None, "problems": [], "text": "", "deactivate": False,
              "applied": None, "message": None, **context}
    return render(request, "admin/config.html", values, status_code=status_code)


@require_role(Role.ADMIN)
async def config_page(request: Request) -> Response:
    """Download the set-up, or upload a file to preview."""
    return _page(request)


@require_role(Role.ADMIN)
async def config_download(request: Request) -> Response:
    """The set-up as YAML, the same file as `frontyard config export`."""
    def export() -> str:
        with read_session(request.app.state.engine) as session:
            return config_file.export_text(session)

    today = datetime.now(request.app.state.settings.tz).date().isoformat()
    return Response((await run_in_threadpool(export)).encode("utf-8"),
                    media_type="application/yaml; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="frontyard-config-{today}.yaml"'})


def _import(request: Request, text: str, deactivate: bool,
            apply: bool) -> config_file.ImportReport:
    """The import in one transaction, committed only when `apply`."""
    user = current_user(request)
    with db(request) as session:
        report = config_file.import_text(session, text, deactivate_missing=deactivate,
                                         user_id=user.id if user else None)
        if apply:
            session.commit()
    return report


async def _run(request: Request, text: str, deactivate: bool, apply: bool) -> Response:
    try:
        report = await run_in_threadpool(_import, request, text, deactivate, apply)
    except config_file.FileRejected as rejected:
        return _page(request, 422, problems=rejected.messages,
                     message=_("This file cannot be imported; nothing was changed."))
    if apply:
        return _page(request, applied=report)
    return _page(request, report=report, text=text, deactivate=deactivate)


@require_role(Role.ADMIN)
async def config_preview(request: Request) -> Response:
    """What the uploaded file would change; nothing is written."""
    async with request.form(max_files=1) as form:
        upload = form.get("file")
        deactivate = form.get("deactivate_missing") == "on"
        data = await upload.read(MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
    if not data:
        return _page(request, 422, message=_("Choose a YAML file to upload."))
    if len(data) > MAX_BYTES:
        return _page(request, 422, message=_("The file is larger than %(size)s kB.") % {
            "size": MAX_BYTES // 1024})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _page(request, 422, message=_("The file is not UTF-8 text."))
    return await _run(request, text, deactivate, apply=False)


@require_role(Role.ADMIN)
async def config_apply(request: Request) -> Response:
    """Apply the previewed file, all or nothing."""
    form = await request.form()
    text = str(form.get("text", ""))[:MAX_BYTES]
    return await _run(request, text, form.get("deactivate_missing") == "on", apply=True)


routes = [
    Route("/admin/config", config_page, methods=["GET"], name="admin_config"),
    Route("/admin/config", config_preview, methods=["POST"]),
    Route("/admin/config.yaml", config_download, methods=["GET"], name="admin_config_yaml"),
    Route("/admin/config/apply", config_apply, methods=["POST"], name="admin_config_apply"),
]
