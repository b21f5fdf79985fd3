"""The JSON API under /api/v1: kiosks and ticket printers issue tickets, phones read a
ticket's status, anyone reads the queue, signed-in staff run counters and act on tickets.

Request bodies are validated with pydantic (`schemas`; 422 with a message per field; malformed
JSON is a 400); the rules live in `counter.queue`. The OpenAPI 3.1 document at
/api/openapi.json (`openapi`) is built from the same table of operations and models that
defines the routes (`plumbing.OPERATIONS`), so it cannot drift from them. Domain work runs in a
worker thread (the database may make a writer wait).

One module per resource (`tickets`, `queues`, `counters`, `tasks`); this module is the API's
public interface and assembles its routes.
"""

from __future__ import annotations

from starlette.routing import Route

# Each resource registers its operations in `OPERATIONS` as it is imported: this order is the
# order of the routes and of the OpenAPI document's paths.
# isort: off
from counter.api import tickets, queues, counters, tasks  # noqa: F401
# isort: on
from counter.api.openapi import OPENAPI_PATH, openapi, openapi_document
from counter.api.plumbing import OPERATIONS

__all__ = ["OPERATIONS", "openapi_document", "routes"]

routes = [
    *(Route(op.path, op.endpoint, methods=[op.method], name=f"api_{op.endpoint.__name__}")
      for op in OPERATIONS),
    Route(OPENAPI_PATH, openapi, name="api_openapi"),
]
