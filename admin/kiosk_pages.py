"""Admin pages for what residents see first: the city's name and logo (/admin/branding), and
each office's kiosk (/admin/offices/{code}/kiosk): its languages in order, welcome text,
privacy notice and the office's own logo. Thin: the rules live in `admin.branding` and
`admin.kiosk_setup`; a refused form comes back with every problem and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin import branding as branding_domain
from admin import checks, kiosk_setup
from admin import offices as office_domain
from counter.models import Office
from frontyard import branding, database, images
from frontyard.auth import Role
from frontyard.errors import ValidationFailed
from frontyard.guards import current_user, require_role
from frontyard.i18n import BY_CODE, LANGUAGES
from frontyard.i18n import gettext as _
from frontyard.templating import render
from kiosk import offer
from kiosk.catalog import KIOSK_LOCALES

#: A notice may be long; anything longer than this is refused by the length check anyway.
MAX_TEXT_FIELD = kiosk_setup.MAX_PRIVACY + 1


def _in_session(request: Request, work: Callable[[Session], Any]) -> Any:
    """Run `work` in one transaction: all of it is stored, or (on an error) nothing."""
    with database.session_scope(request.app.state.engine) as session:
        return work(session)


def _user_id(request: Request) -> int | None:
    user = current_user(request)
    return user.id if user else None


async def _read_form(request: Request) -> FormData | None:
    """The submitted form (a logo upload too), or None when it cannot be read."""
    try:
        return await request.form(max_part_size=MAX_TEXT_FIELD * 4)
    except (HTTPException, MultiPartException):
        return None


def _unreadable() -> ValidationFailed:
    message = _("The form could not be read. Please try again.")
    return ValidationFailed(message, form=message)


async def _page(request: Request, template: str, read: Callable[[Session], dict[str, Any]],
                save: Callable[[Session, FormData], str] | None) -> Response:
    """GET shows the page; POST runs `save` and redirects, or shows the page again with the
    problems (422, every entry kept)."""
    form = None
    if request.method == "POST" and save is not None:
        form = await _read_form(request)
        try:
            if form is None:
                raise _unreadable()
            await form.close()  # the values stay readable; uploaded files are closed
            target = await run_in_threadpool(_in_session, request, lambda s: save(s, form))
            return RedirectResponse(target, status_code=303)
        except ValidationFailed as error:
            context = await run_in_threadpool(_in_session, request, read)
            return render(request, template, context | {
                "problems": error.fields, "message": error.message, "values": form},
                status_code=422)
    context = await run_in_threadpool(_in_session, request, read)
    return render(request, template, context | {"problems": {}, "message": None, "values": None})


async def _logo_bytes(form: FormData) -> bytes:
    """The uploaded file's bytes, read no further than just past the limit."""
    upload = form.get("logo")
    if not isinstance(upload, UploadFile):
        return b""
    return await upload.read(images.MAX_BYTES + 1)


# --- the city: name and logo -----------------------------------------------------------------


LIMITS = {"max_mb": images.MAX_BYTES // 2**20, "max_side": images.MAX_SIDE}


def _branding_context(session: Session) -> dict[str, Any]:
    return {**LIMITS, "names": branding.city_names(session),
            "logo": branding.own_logo(session, None),
            "offices": [(office, branding.own_logo(session, office.id))
                        for office in office_domain.offices(session)]}


@require_role(Role.ADMIN)
async def branding_page(request: Request) -> Response:
    """The city's name in each language and its logo."""
    def save(session: Session, form: FormData) -> str:
        names = {language.code: str(form.get(f"name_{language.code}", ""))[:512]
                 for language in LANGUAGES}
        branding_domain.save_city_names(session, _user_id(request), names)
        return "/admin/branding"

    return await _page(request, "admin/branding.html", _branding_context, save)


async def _logo_action(request: Request, office_code: str | None, remove: bool) -> Response:
    """Upload or remove the city's logo (no office) or an office's own."""
    back = f"/admin/offices/{office_code}/kiosk" if office_code else "/admin/branding"
    form = await _read_form(request)
    data = b""
    if form is not None:
        try:
            data = b"" if remove else await _logo_bytes(form)
        finally:
            await form.close()

    def office_of(session: Session) -> Office | None:
        return office_domain.office_by_code(session, office_code) if office_code else None

    def work(session: Session) -> None:
        if form is None:
            raise ValidationFailed(_("The image is larger than %(mb)d MB.") % {
                "mb": images.MAX_BYTES // 2**20}, logo="")
        office = office_of(session)
        if remove:
            branding_domain.remove_logo(session, _user_id(request), office)
        else:
            branding_domain.upload_logo(session, _user_id(request), office, data)

    try:
        await run_in_threadpool(_in_session, request, work)
    except ValidationFailed as error:
        message = error.message
        if office_code:
            return await _kiosk_page_with(request, office_code, {"logo": message}, message)
        context = await run_in_threadpool(_in_session, request, _branding_context)
        return render(request, "admin/branding.html", context | {
            "problems": {"logo": message}, "message": message, "values": None},
            status_code=422)
    return RedirectResponse(back, status_code=303)


@require_role(Role.ADMIN)
async def city_logo_upload(request: Request) -> Response:
    """Upload the city's logo (PNG or WebP)."""
    return await _logo_action(request, None, remove=False)


@require_role(Role.ADMIN)
async def city_logo_remove(request: Request) -> Response:
    """Remove the city's logo."""
    return await _logo_action(request, None, remove=True)


@require_role(Role.ADMIN)
async def office_logo_upload(request: Request) -> Response:
    """Upload an office's own logo, shown instead of the city's on its kiosks and boards."""
    return await _logo_action(request, request.path_params["code"], remove=False)


@require_role(Role.ADMIN)
async def office_logo_remove(request: Request) -> Response:
    """Remove an office's own logo (its screens show the city's again)."""
    return await _logo_action(request, request.path_params["code"], remove=True)


# --- an office's kiosk -----------------------------------------------------------------------


def _kiosk_context(code: str) -> Callable[[Session], dict[str, Any]]:
    def read(session: Session) -> dict[str, Any]:
        office = office_domain.office_by_code(session, code)
        row = offer.settings_of(session, office.id)  # type: ignore[arg-type]
        offered = list(offer.offered_languages(session, office.id))  # type: ignore[arg-type]
        return {**LIMITS, "office": office, "data": kiosk_setup.input_of(row), "offered": offered,
                "kiosk_languages": [BY_CODE[code] for code in KIOSK_LOCALES],
                "always": offer.ALWAYS, "logo": branding.own_logo(session, office.id)}
    return read


def kiosk_input(form: FormData) -> kiosk_setup.KioskInput:
    """The kiosk form: each offered language with its position, and the texts per language."""
    problems: checks.Problems = {}
    chosen = []
    for index, code in enumerate(KIOSK_LOCALES):
        if code != offer.ALWAYS and form.get(f"offer_{code}") != "on":
            continue
        position = str(form.get(f"order_{code}", "")).strip()[:8] or "99"
        chosen.append((checks.number(position, f"order_{code}", 1, 99, problems), index, code))
    checks.raise_if(problems)
    return kiosk_setup.KioskInput(
        languages=[code for _, _, code in sorted(chosen)],
        welcome={code: str(form.get(f"welcome_{code}", ""))[:MAX_TEXT_FIELD]
                 for code in KIOSK_LOCALES},
        privacy={code: str(form.get(f"privacy_{code}", ""))[:MAX_TEXT_FIELD]
                 for code in KIOSK_LOCALES})


@require_role(Role.ADMIN)
async def kiosk_page(request: Request) -> Response:
    """An office's kiosk: languages and their order, welcome text, privacy notice, own logo."""
    code = request.path_params["code"]

    def save(session: Session, form: FormData) -> str:
        office = office_domain.office_by_code(session, code)
        kiosk_setup.save_kiosk(session, _user_id(request), office, kiosk_input(form))
        return f"/admin/offices/{office.code}/kiosk"

    return await _page(request, "admin/kiosk.html", _kiosk_context(code), save)


async def _kiosk_page_with(request: Request, code: str, problems: dict[str, str],
                           message: str) -> Response:
    context = await run_in_threadpool(_in_session, request, _kiosk_context(code))
    return render(request, "admin/kiosk.html", context | {
        "problems": problems, "message": message, "values": None}, status_code=422)


routes = [
    Route("/admin/branding", branding_page, methods=["GET", "POST"], name="admin_branding"),
    Route("/admin/branding/logo", city_logo_upload, methods=["POST"], name="admin_city_logo"),
    Route("/admin/branding/logo/remove", city_logo_remove, methods=["POST"],
          name="admin_city_logo_remove"),
    Route("/admin/offices/{code}/kiosk", kiosk_page, methods=["GET", "POST"],
          name="admin_kiosk"),
    Route("/admin/offices/{code}/logo", office_logo_upload, methods=["POST"],
          name="admin_office_logo"),
    Route("/admin/offices/{code}/logo/remove", office_logo_remove, methods=["POST"],
          name="admin_office_logo_remove"),
]
