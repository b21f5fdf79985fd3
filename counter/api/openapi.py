"""The OpenAPI 3.1 document at /api/openapi.json, built from the same table of operations and
models that defines the routes, so it cannot drift from them. Apart from the resources because
it describes them all and serves none.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from counter.api.plumbing import OPERATIONS
from counter.api.schemas import MAX_ID, ErrorOut, NoBody

OPENAPI_PATH = "/api/openapi.json"

_STATUS_TEXT = {200: "OK", 201: "Created", 400: "Malformed JSON", 401: "Not signed in",
                403: "Not allowed", 404: "Not found", 409: "Not possible in the current state",
                413: "Body too large", 422: "Invalid fields",
                429: "Too many requests: wait the Retry-After seconds"}


def _openapi_path(path: str) -> tuple[str, list[dict[str, Any]]]:
    """`/tasks/{task_id:int}` → `/tasks/{task_id}` and its path parameters."""
    parameters, parts = [], []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            name, _, kind = part[1:-1].partition(":")
            schema = ({"type": "integer", "minimum": 1, "maximum": MAX_ID} if kind == "int"
                      else {"type": "string"})
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
            part = "{" + name + "}"
        parts.append(part)
    return "/".join(parts), parameters


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every operation, from the same table as the routes."""
    models: list[type[BaseModel]] = [ErrorOut]
    for op in OPERATIONS:
        models += [op.response] + ([op.body] if op.body else [])
    unique = list(dict.fromkeys(models))
    keys, schemas = models_json_schema(
        [(model, "validation") for model in unique],
        ref_template="#/components/schemas/{model}")

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return keys[(model, "validation")]

    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path, parameters = _openapi_path(op.path)
        responses: dict[str, Any] = {str(op.status): {
            "description": _STATUS_TEXT[op.status],
            "content": {"application/json": {"schema": ref(op.response)}}}}
        for status in op.errors:
            responses[str(status)] = {
                "description": _STATUS_TEXT[status],
                "content": {"application/json": {"schema": ref(ErrorOut)}}}
            if status == 429:
                responses["429"]["headers"] = {"Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 1}}}
        entry: dict[str, Any] = {
            "operationId": op.endpoint.__name__, "summary": op.summary, "tags": list(op.tags),
            "responses": responses,
        }
        if op.endpoint.__doc__:
            entry["description"] = op.endpoint.__doc__.strip()
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {"required": op.body is not NoBody, "content": {
                "application/json": {"schema": ref(op.body)}}}
        if op.auth == "kiosk":
            entry["security"] = [{"deviceToken": []}, {"staffSession": []}]
        elif op.auth == "staff":
            entry["security"] = [{"staffSession": []}]
        paths.setdefault(path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Frontyard API", "version": "1",
            "description": "Tickets for kiosks and ticket printers, ticket status for residents' "
                           "phones, queue state, and counter actions for signed-in staff. "
                           "Errors are JSON `{error, detail, fields}`; 409 means the action does "
                           "not fit the ticket's or counter's state.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "deviceToken": {"type": "http", "scheme": "bearer",
                                "description": "A kiosk's device token (`frontyard device add`)."},
                "staffSession": {"type": "apiKey", "in": "cookie", "name": "fy_session",
                                 "description": "A staff member's session after signing in."},
            },
        },
    }


async def openapi(request: Request) -> Response:
    """The OpenAPI document."""
    return JSONResponse(openapi_document())
