"""Path parameters: `{name:int}` in an address is a number a database id can be."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute, compile_path

#: The most digits an id in an address may have: every 9-digit number fits the tables' id
#: columns (PostgreSQL's INTEGER holds up to 2,147,483,647; SQLite's 64 bits more).
MAX_ID_DIGITS = 9


class IdConvertor(IntegerConvertor):
    """Starlette's `int`, at most MAX_ID_DIGITS digits: a longer number names no row, and
    would fail int() past 4,300 digits or overflow the id column (a 500 either way).
    Such an address matches no route: a 404 page."""

    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"


def bound_ids(routes: Sequence[BaseRoute]) -> None:
    """Make every `{name:int}` of these routes (through mounts) an IdConvertor."""
    # Starlette compiles a route's pattern when the route is created, which the features do
    # when imported; registering first would depend on import order, so recompile here.
    register_url_convertor("int", IdConvertor())
    for route in routes:
        if isinstance(route, Route | WebSocketRoute) and ":int}" in route.path:
            route.path_regex, route.path_format, route.param_convertors = compile_path(
                route.path)
        elif isinstance(route, Mount):
            bound_ids(route.routes)
