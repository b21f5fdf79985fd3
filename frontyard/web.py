"""Pages every area shares: start page, sign-in, language choice, device pairing, health."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from frontyard import auth, database, i18n
from frontyard.guards import DEVICE_COOKIE, current_user, db, sign_in, sign_out
from frontyard.i18n import gettext as _
from frontyard.ratelimit import RateLimited, try_again_in
from frontyard.templating import render

DEVICE_COOKIE_MAX_AGE = 5 * 365 * 24 * 3600
MAX_FIELD = 256


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to go to after an action; anything else becomes `default`."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


async def home(request: Request) -> Response:
    """The start page: where each kind of user goes."""
    current_user(request)
    return render(request, "home.html")


async def login_page(request: Request) -> Response:
    """The sign-in form."""
    if current_user(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return render(request, "auth/login.html", {"next": safe_next(request.query_params.get("next")),
                                                "error": None, "username": ""})


async def login_submit(request: Request) -> Response:
    """Check the password, with a lockout after repeated failures."""
    form = await request.form()
    username = str(form.get("username", ""))[:MAX_FIELD].strip()
    password = str(form.get("password", ""))[:MAX_FIELD]
    target = safe_next(str(form.get("next", "")))
    address = request.client.host if request.client else "unknown"
    throttle: auth.LoginThrottle = request.app.state.login_throttle
    wait = throttle.retry_after(username, address)
    if wait > 0:
        raise RateLimited(_("Too many failed sign-ins.") + " " + try_again_in(wait), wait)
    user = None
    if username and password:
        with db(request) as session:
            user = auth.authenticate(session, username, password)
    if user is None:
        throttle.record_failure(username, address)
        context = {"next": target, "username": username,
                   "error": _("The user name or password is not correct.")}
        return render(request, "auth/login.html", context, status_code=401)
    throttle.reset(username, address)
    sign_in(request, user)
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    """End the session and return to the start page."""
    sign_out(request)
    return RedirectResponse("/", status_code=303)


async def choose_locale(request: Request) -> Response:
    """Remember the chosen language in a cookie and go back to the page."""
    code = request.path_params["code"]
    if not i18n.is_supported(code):
        raise HTTPException(404)
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.set_cookie(i18n.LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax",
                        httponly=True, secure=request.app.state.settings.secure_cookies)
    return response


def _pair_page(request: Request, code: str, error: str | None = None,
               status_code: int = 200) -> Response:
    """The pairing form: the code (typed in or from the link) and one button that pairs."""
    device = None
    if code and error is None:
        with db(request) as session:
            device = auth.device_for_pairing_code(session, code)
        if device is None:
            error, status_code = _("This pairing code is not valid or was used already. Ask "
                                   "an administrator for a new one."), 404
    return render(request, "auth/pair.html", {"code": code, "device": device, "error": error},
                  status_code=status_code)


async def pair_form(request: Request) -> Response:
    """Where a new screen's operator types the code shown on the admin page."""
    return _pair_page(request, "")


async def pair_confirm(request: Request) -> Response:
    """A pairing link only shows what it would pair: a link preview in a chat or mail opens
    it with a GET, and must not use the code up."""
    return _pair_page(request, request.path_params["code"][:MAX_FIELD])


async def pair_device(request: Request) -> Response:
    """Use a one-time pairing code up (a POST): this browser becomes the device."""
    form = await request.form()
    code = str(form.get("code", ""))[:MAX_FIELD].strip()
    paired = None
    if code:
        with db(request) as session:
            paired = auth.redeem_pairing_code(session, code)
            session.commit()
    if paired is None:
        error = (_("This pairing code is not valid or was used already. Ask an administrator "
                   "for a new one.") if code else _("Enter the pairing code."))
        return _pair_page(request, code, error, status_code=422)
    device, token = paired
    target = "/kiosk" if device.kind == auth.DeviceKind.KIOSK else "/board"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(DEVICE_COOKIE, token, max_age=DEVICE_COOKIE_MAX_AGE, samesite="lax",
                        httponly=True, secure=request.app.state.settings.secure_cookies)
    return response


async def healthz(request: Request) -> Response:
    """200 when the database answers, 503 when it does not."""
    # In a thread: a busy database must not stall the event loop (and every websocket).
    reachable = await run_in_threadpool(database.is_reachable, request.app.state.engine)
    body = {"status": "ok" if reachable else "unavailable",
            "database": "ok" if reachable else "unreachable"}
    return JSONResponse(body, status_code=200 if reachable else 503)


async def livez(request: Request) -> Response:
    """200 while this worker answers at all: what the proxy's health checks ask.

    No database here: every worker shares the one database, so an outage is answered by each
    worker with the "please wait" page, rather than by the proxy with no worker at all."""
    return JSONResponse({"status": "ok"})


routes = [
    Route("/", home, name="home"),
    Route("/login", login_page, methods=["GET"], name="login"),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/locale/{code}", choose_locale, name="choose_locale"),
    Route("/device/pair", pair_form, methods=["GET"], name="pair_form"),
    Route("/device/pair", pair_device, methods=["POST"], name="pair_device"),
    Route("/device/pair/{code}", pair_confirm, methods=["GET"], name="pair_confirm"),
    Route("/healthz", healthz, name="healthz"),
    Route("/livez", livez, name="livez"),
]
