"""Every JSON API operation in one table, and what is built from it: the routes the app serves
and the OpenAPI 3.1 document (from the same table and the input specs)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from polls.errors import ErrorCode
from polls.http.api import (
    analysis,
    codes,
    deliveries,
    juries,
    jury_reports,
    messages,
    pilots,
    polls,
    results,
    session,
    translations,
    votes,
)
from polls.http.api.kit import ApiRoute, Endpoint

OPERATIONS: list[ApiRoute] = [
    *session.OPERATIONS,
    *pilots.OPERATIONS,
    *polls.OPERATIONS,
    *codes.OPERATIONS,
    *translations.OPERATIONS,
    *juries.OPERATIONS,
    *jury_reports.OPERATIONS,
    *results.OPERATIONS,
    *analysis.OPERATIONS,
    *votes.OPERATIONS,
    *messages.OPERATIONS,
    *deliveries.OPERATIONS,
]

_ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"$ref": "#/components/schemas/ErrorCode"},
        "message": {"type": "string", "description": "plain-language explanation"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

# Every code an error response can carry, each with what it means (a client can switch on them).
_ERROR_CODE = {
    "type": "string",
    "description": "machine-readable reason",
    "oneOf": [{"const": c.value, "description": c.description} for c in ErrorCode],
}

_RESPONSES = {
    "400": "The body is not valid JSON (`invalid_json`), or the request is malformed",
    "401": "Not signed in",
    "403": "Your role does not allow this, or the CSRF token is missing",
    "404": "No such pilot, area, poll or question",
    "409": "Not allowed in the current state (for example editing an open poll)",
    "413": "The body is too large",
    "415": "The body is not of the media type the operation takes",
    "422": "The body broke a rule; `errors` lists each field",
    "503": "The database or Redis did not answer; nothing was saved, try again",
}

_TOO_MANY = {
    "description": "Too many attempts: wait the Retry-After seconds",
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}, "required": True}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _operation(route: ApiRoute, schemas: dict[str, Any]) -> dict[str, Any]:
    """One route's operation in the document; its request body's schemas go into ``schemas``."""
    op: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.operation_id,
        "responses": {
            "2XX": {"description": "Done"},
            **{
                code: {"description": text, "content": _json_ref("Error")}
                for code, text in _RESPONSES.items()
            },
        },
    }
    if route.throttled:
        op["responses"]["429"] = _TOO_MANY
    if route.public:
        op["security"] = []  # answers without a session too
    params = re.findall(r"\{(\w+)(?::(\w+))?\}", route.path)
    if params:
        op["parameters"] = [
            {
                "name": n,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if t == "int" else "string"},
            }
            for n, t in params
        ]
    if route.body is not None:
        schemas.update(_schemas(route.body))
        op["requestBody"] = {"required": True, "content": _json_ref(route.body.__name__)}
    elif route.body_media != "application/json":
        op["requestBody"] = {
            "required": True,
            "content": {route.body_media: {"schema": {"type": "string"}}},
        }
    if route.method != "GET" and not route.public:
        op["parameters"] = [
            *op.get("parameters", []),
            {
                "name": "X-CSRF-Token",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "the csrf_token from GET or POST /api/session",
            },
        ]
    return op


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": _ERROR, "ErrorCode": _ERROR_CODE}
    paths: dict[str, dict[str, Any]] = {}
    for route in OPERATIONS:
        path = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", route.path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "polls council API",
            "version": "1",
            "description": "Sign in with POST /api/session; send the session cookie and the "
            "X-CSRF-Token header with every call that changes something.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "polls_session"}},
        },
        "security": [{"session": []}],
    }


def _json_ref(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def _schemas(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {model.__name__: schema, **defs}


async def openapi_json(request: Request) -> Response:
    return JSONResponse(document())


def _routes() -> list[BaseRoute]:
    """One route per path, dispatching on the method; operations the app answers itself are left out."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for operation in OPERATIONS:
        if operation.endpoint is not None:
            by_path.setdefault(operation.path, {})[operation.method] = operation.endpoint
    served: list[BaseRoute] = [Route("/api/openapi.json", openapi_json, methods=["GET"])]
    for path, endpoints in by_path.items():
        served.append(Route(path, _dispatch(endpoints), methods=list(endpoints)))
    return served


def _dispatch(endpoints: dict[str, Endpoint]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return endpoint


routes = _routes()
