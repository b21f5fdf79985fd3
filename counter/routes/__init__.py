"""Queue pages and their live sockets: the staff terminal, the call board, the public crowding
page and the residents' status pages. Thin: the rules live in `counter.queue`, the read
models in `counter.views`, the renderings in `counter.screens`.

Every action commits its change together with an announcement on the office's topic
(`frontyard.realtime.announce`), which makes every live screen of the office re-render.

One module per screen (`terminal`, `board`, `crowding`, `status`), with what they share in
`common`; this module assembles their routes, then the JSON API's (`counter.api`).
"""

from __future__ import annotations

from counter.api import routes as api_routes
from counter.routes import board, crowding, status, terminal

__all__ = ["routes"]

routes = [
    *terminal.routes,
    *board.routes,
    *crowding.routes,
    *status.routes,
    *terminal.sockets,
    *board.sockets,
    *crowding.sockets,
    *status.sockets,
    *api_routes,
]
