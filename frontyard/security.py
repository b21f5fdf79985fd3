"""Pure ASGI middleware: language choice, cross-site request blocking and security headers."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frontyard import i18n

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _cookies(headers: Headers) -> dict[str, str]:
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:
        return {}
    return {key: morsel.value for key, morsel in cookie.items()}


class LocaleMiddleware:
    """Decide the language of each request: cookie choice > Accept-Language > default."""

    def __init__(self, app: ASGIApp, default_locale: str = "ja") -> None:
        self.app = app
        self.default_locale = default_locale

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the request's language in a ContextVar and in scope state."""
        if scope["type"] in {"http", "websocket"}:
            headers = Headers(scope=scope)
            code = i18n.negotiate(
                _cookies(headers).get(i18n.LOCALE_COOKIE),
                headers.get("accept-language"),
                self.default_locale,
            )
            i18n.set_locale(code)
            scope.setdefault("state", {})["locale"] = code
        await self.app(scope, receive, send)


class CrossSiteRequestMiddleware:
    """Refuse state-changing requests that a browser made on behalf of another site.

    Browsers label every request with Sec-Fetch-Site and (on POST) Origin; a request that
    carries cookies must prove it comes from our own pages through one of them. Requests
    without cookies (API clients with a bearer token) cannot ride on a victim's session.
    """

    def __init__(self, app: ASGIApp, trusted_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.trusted_origins = {origin.rstrip("/") for origin in trusted_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass safe and same-origin requests; answer the rest with 403."""
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self._is_allowed(scope, headers):
            await self.app(scope, receive, send)
            return
        from frontyard.errors import cross_site_response  # the error page needs the app

        response = await cross_site_response(scope)
        await response(scope, receive, send)

    def _is_allowed(self, scope: Scope, headers: Headers) -> bool:
        # Browsers set Sec-Fetch-Site themselves (pages cannot forge it), so it decides alone;
        # Origin is the fallback for older browsers; cookie-less clients carry no ambient
        # credentials to abuse.
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None:
            return fetch_site in {"same-origin", "none"}
        origin = headers.get("origin")
        if origin is not None:
            return self._same_origin(origin, scope, headers)
        return "cookie" not in headers

    def _same_origin(self, origin: str, scope: Scope, headers: Headers) -> bool:
        if origin.rstrip("/") in self.trusted_origins:
            return True
        host = headers.get("host", "")
        parsed = urlsplit(origin)
        return bool(host) and parsed.netloc == host


class SecurityHeadersMiddleware:
    """Add a strict CSP and the other protective headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap `send` so the start of each response gets the headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault(
                    "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)
