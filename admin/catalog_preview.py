"""The preview of a catalog version on kiosk screens, before (or after) it is published.

The admin walks the resident's first steps — life events, questions, guide — with the kiosk's
own templates, in any kiosk language chosen on the page, under a bar that says it is a
preview. Nothing of the kiosk's flow is touched: the choices live in the admin's signed
session cookie (no kiosk session row), and no ticket can be issued (the guide leaves out the
ticket step). A version with problems cannot be previewed (the kiosk could not serve it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin import offices as office_domain
from admin.catalog_pages import in_session
from counter.models import Office
from frontyard import i18n
from frontyard.auth import Role
from frontyard.errors import Conflict, ValidationFailed
from frontyard.guards import require_role
from frontyard.i18n import gettext as _
from frontyard.templating import render
from kiosk.catalog import KIOSK_LOCALES, Catalog, localized_html
from kiosk.catalog_serving import check_version, without_hidden
from kiosk.catalog_versions import version_by_number
from kiosk.guide import Guide, build_guide, parse_answers

PREVIEW = "catalog_preview"
NO_STORE = {"Cache-Control": "no-store"}


def _base(request: Request) -> str:
    params = request.path_params
    return f"/admin/offices/{params['code']}/catalog/{params['number']}/preview"


def _load(session: Session, code: str, number: int) -> tuple[Office, Catalog]:
    office = office_domain.office_by_code(session, code)
    version = version_by_number(session, office, number)
    result = check_version(session, office, version)
    if result.catalog is None:
        raise Conflict(_("This version has problems; it cannot be previewed."))
    return office, without_hidden(result.catalog)


async def _catalog(request: Request) -> tuple[Office, Catalog]:
    code, number = request.path_params["code"], request.path_params["number"]
    return await run_in_threadpool(in_session, request, lambda s: _load(s, code, number))  # type: ignore[no-any-return]


def _state(request: Request) -> dict[str, Any]:
    """This preview's choices (another version's or office's are dropped)."""
    state = request.session.get(PREVIEW) or {}
    if state.get("base") != _base(request):
        state = {"base": _base(request), "locale": "ja", "events": [], "answers": {}}
    lang = request.query_params.get("lang")
    if lang in KIOSK_LOCALES:
        state["locale"] = lang
    request.session[PREVIEW] = state
    i18n.set_locale(state["locale"])
    return state  # type: ignore[no-any-return]


def _save(request: Request, state: dict[str, Any]) -> None:
    request.session[PREVIEW] = dict(state)


def _page(request: Request, template: str, context: dict[str, Any],
          status_code: int = 200) -> Response:
    """A kiosk template under the preview bar, forms pointing back at the preview."""
    locale = i18n.current_locale()
    full = {
        "preview": {"number": request.path_params["number"], "base": _base(request),
                    "back": f"/admin/offices/{request.path_params['code']}/catalog/"
                            f"{request.path_params['number']}",
                    "languages": [language for language in i18n.LANGUAGES
                                  if language.code in KIOSK_LOCALES]},
        "kiosk_path": _base(request), "idle": False, "html_class": "", "display": [],
        "idle_seconds": 0, "countdown_seconds": 0, "kiosk_locale": locale,
        "text": lambda value: localized_html(value, locale) if value else "",
        **context,
    }
    response = render(request, template, full, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


def _guide(catalog: Catalog, state: dict[str, Any]) -> Guide | None:
    events = [event for event in state["events"] if catalog.has("life_events", event)]
    if not events:
        return None
    answers = {key: value for key, value in state["answers"].items()
               if catalog.has("questions", key)}
    return build_guide(catalog, events, answers)


def _go(path: str) -> Response:
    return RedirectResponse(path, status_code=303, headers=NO_STORE)


@require_role(Role.ADMIN)
async def preview_events(request: Request) -> Response:
    """The life events, as the kiosk shows them (GET); choosing some goes on (POST)."""
    catalog = (await _catalog(request))[1]
    state = _state(request)
    error = None
    if request.method == "POST":
        form = await request.form(max_fields=500)
        chosen = [str(value)[:80] for value in form.getlist("event")]
        try:
            build_guide(catalog, chosen, {})
        except ValidationFailed:
            error = _("Choose at least one life event.")
        else:
            _save(request, state | {"events": list(dict.fromkeys(chosen)), "answers": {}})
            return _go(f"{_base(request)}/questions")
        state["events"] = chosen
    return _page(request, "kiosk/events.html", {
        "events": catalog.life_events, "chosen": state["events"], "error": error},
        status_code=422 if error else 200)


@require_role(Role.ADMIN)
async def preview_questions(request: Request) -> Response:
    """The questions the rules still need; answering them leads to the guide."""
    catalog = (await _catalog(request))[1]
    state = _state(request)
    guide = _guide(catalog, state)
    if guide is None:
        return _go(_base(request))
    errors: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    if request.method == "POST":
        form: FormData = await request.form(max_fields=500)
        values = {key: [str(value) for value in form.getlist(key)] for key in form
                  if key != "asked"}
        asked = [str(value) for value in form.getlist("asked")]
        try:
            given = parse_answers(catalog, values)
        except ValidationFailed as error:
            errors = {key: i18n.as_text(value) for key, value in error.fields.items()}
        else:
            merged = {**state["answers"], **given}
            guide = build_guide(catalog, state["events"], merged)
            pending = {question.id for question in guide.pending_questions}
            missing = [qid for qid in asked if qid in pending and qid not in merged]
            if missing:
                errors = dict.fromkeys(missing, _("Please answer this question."))
            else:
                _save(request, state | {"answers": merged})
                return _go(f"{_base(request)}/questions")
    if guide.complete and not errors:
        return _go(f"{_base(request)}/guide")
    return _page(request, "kiosk/questions.html", {
        "questions": guide.pending_questions, "values": values, "errors": errors,
        "events": guide.life_events, "form_error": None},
        status_code=422 if errors else 200)


@require_role(Role.ADMIN)
async def preview_reset(request: Request) -> Response:
    """Answer the questions again."""
    state = _state(request)
    _save(request, state | {"answers": {}})
    return _go(f"{_base(request)}/questions")


@require_role(Role.ADMIN)
async def preview_guide(request: Request) -> Response:
    """The guide: procedures in visiting order, where to go, what to bring (no ticket)."""
    office, catalog = await _catalog(request)
    state = _state(request)
    guide = _guide(catalog, state)
    if guide is None or not guide.complete:
        return _go(f"{_base(request)}/questions" if guide else _base(request))
    names = {section.service: section.name for section in catalog.sections}
    return _page(request, "kiosk/guide.html", {
        "guide": guide, "office": office, "service_names": names,
        "today": datetime.now(request.app.state.settings.tz).date(),
        "has_details": False, "asks_details": bool(guide.detail_fields)})


PATH = "/admin/offices/{code}/catalog/{number:int}/preview"
routes = [
    Route(PATH, preview_events, name="admin_catalog_preview"),
    Route(PATH + "/events", preview_events, methods=["GET", "POST"],
          name="admin_catalog_preview_events"),
    Route(PATH + "/questions", preview_questions, methods=["GET", "POST"],
          name="admin_catalog_preview_questions"),
    Route(PATH + "/questions/reset", preview_reset, methods=["POST"],
          name="admin_catalog_preview_reset"),
    Route(PATH + "/guide", preview_guide, name="admin_catalog_preview_guide"),
]
