"""Serving logos: public, by content address, cacheable for good (no personal data in them)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from frontyard import branding
from frontyard.guards import db

#: The address names the content, so a browser may keep a logo for a year without asking.
CACHE_CONTROL = "public, max-age=31536000, immutable"


async def logo(request: Request) -> Response:
    """A logo by its digest; 304 when the browser already has it, 404 once it is replaced."""
    digest = request.path_params["digest"]
    etag = f'"{digest}"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})

    def read() -> tuple[bytes, str] | None:
        with db(request) as session:
            found = branding.logo_by_digest(session, digest)
            return (found.data, found.media_type) if found else None

    found = await run_in_threadpool(read)
    if found is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    data, media_type = found
    return Response(data, media_type=media_type,
                    headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})


routes = [Route(branding.LOGO_PATH + "{digest}", logo, methods=["GET"], name="logo")]
