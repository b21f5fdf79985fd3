"""Jinja2 templates with gettext, locale-aware filters and the context every page needs."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from frontyard import PROJECT_ROOT, i18n, ruby

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"


@cache
def static_url(path: str) -> str:
    """The URL of a static file with a version drawn from its content (`?v=…`): Caddy lets
    browsers keep versioned files for a year, and an upgrade changes the URL of every file
    that changed."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


def make_templates(settings: Any) -> Jinja2Templates:
    """The template renderer, with translations bound to the request's language."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.gettext, ngettext=i18n.ngettext, pgettext=i18n.pgettext, newstyle=True
    )
    tz = settings.tz
    env.filters["datetime"] = lambda value, fmt="medium": i18n.fmt_datetime(value, tz, fmt)
    env.filters["date"] = lambda value, fmt="medium": i18n.fmt_date(value, fmt)
    env.filters["time"] = lambda value, fmt="short": i18n.fmt_time(value, tz, fmt)
    env.filters["number"] = i18n.fmt_number
    env.filters["percent"] = i18n.fmt_percent
    env.filters["tr"] = i18n.translate_map
    # Easy-Japanese texts carry <ruby>; attribute values, <title> and <option> need plain text.
    env.filters["plain"] = ruby.plain_text
    env.globals["static"] = static_url
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["staff_locales"] = i18n.STAFF_LOCALES
    return Jinja2Templates(env=env)


def page_context(request: Request) -> dict[str, Any]:
    """What base.html needs on every page: the language, the user and the switcher's target."""
    language = i18n.current_language()
    return {
        "language": language,
        "current_user": getattr(request.state, "user", None),
        "current_path": request.url.path,
    }


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """Render a page or fragment with the common context."""
    templates: Jinja2Templates = request.app.state.templates
    full_context = page_context(request) | (context or {})
    return templates.TemplateResponse(request, name, full_context, status_code=status_code)
