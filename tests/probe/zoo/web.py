"""What every zoo app shares and what is not part of any planted failure.

The app factory (JSON errors, no internals in a 500), static bearer tokens resolved to a user name,
request validation against the same JSON schemas the OpenAPI document publishes, and small builders for
those documents so that each app states its API once.
"""

from __future__ import annotations

import secrets
from functools import wraps
from typing import Any, Callable, TypeVar

import jsonschema
from flask import Flask, abort, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

F = TypeVar("F", bound=Callable)
USERS = ("alice", "bob")
TOKENS = "zoo_tokens"


def create_app(name: str, spec: dict, tokens: dict[str, str] | None = None) -> Flask:
    """A Flask app that answers errors as JSON, serves `spec` at /openapi.json and knows `tokens` (token -> user)."""
    app = Flask(name)
    app.json.sort_keys = False
    app.extensions[TOKENS] = tokens or {}
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)
    app.add_url_rule("/openapi.json", "openapi", lambda: jsonify(spec))
    return app


def static_tokens() -> dict[str, str]:
    """A fresh bearer token for each user: token -> user name."""
    return {secrets.token_urlsafe(24): user for user in USERS}


def bearer_identities(tokens: dict[str, str]) -> tuple[dict[str, dict], dict[str, str]]:
    """The probe's identities for `tokens` (static bearer headers), and the secrets they name."""
    identities = {user: {"header": f"Authorization: Bearer ${{{secret_name(user, 'token')}}}"}
                  for user in tokens.values()}
    return identities, {secret_name(user, "token"): token for token, user in tokens.items()}


def secret_name(user: str, what: str) -> str:
    """The environment variable that carries `user`'s `what` to the probe: ZOO_ALICE_TOKEN."""
    return f"ZOO_{user.upper()}_{what.upper()}"


def login_required(view: F) -> F:
    """`Authorization: Bearer <token>` resolved to `g.user`, or 401."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = current_app.extensions[TOKENS].get(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return jsonify(error="missing or invalid bearer token"), 401
        g.user = user
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def me():
    """GET /me: who the caller is, so that a client can learn its own id."""
    return jsonify(id=g.user, username=g.user)


def json_body(schema: dict) -> dict:
    """The request's JSON object, valid for `schema`, or a 422 that says what is wrong (without the input)."""
    body = request.get_json(silent=True)
    return valid(body, schema)


def valid(body: Any, schema: dict) -> Any:
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(part) for part in errors[0].path) or "body"
        abort(422, f"invalid request: {where}: {errors[0].validator} {errors[0].validator_value!r}")
    return body


def _http_error(exc: HTTPException):
    return jsonify(error=exc.description or exc.name), exc.code or 500


def _internal_error(exc: Exception):
    current_app.logger.debug("unhandled error", exc_info=exc)
    return jsonify(error="internal error"), 500


# ---- OpenAPI documents ---------------------------------------------------------------------------------

BEARER = {"bearer": {"type": "http", "scheme": "bearer"}}


def document(title: str, paths: dict, *, schemes: dict | None = None, security: bool = True) -> dict:
    """An OpenAPI 3.0 document; every operation requires the first security scheme unless it says otherwise."""
    schemes = BEARER if schemes is None else schemes
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0.0"},
        "paths": paths,
        "components": {"securitySchemes": schemes},
        **({"security": [{next(iter(schemes)): []}]} if security else {}),
    }


def operation(operation_id: str, responses: dict, *, body: dict | None = None, media: str = "application/json",
              parameters: list | None = None, public: bool = False) -> dict:
    result: dict[str, Any] = {"operationId": operation_id, "responses": responses}
    if parameters:
        result["parameters"] = parameters
    if body is not None:
        result["requestBody"] = {"required": True, "content": {media: {"schema": body}}}
    if public:
        result["security"] = []
    return result


def path_parameter(name: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def answer(description: str, schema: dict | None = None, *, links: dict | None = None,
           headers: dict | None = None, media: str = "application/json") -> dict:
    result: dict[str, Any] = {"description": description}
    if schema is not None:
        result["content"] = {media: {"schema": schema}}
    if links:
        result["links"] = links
    if headers:
        result["headers"] = headers
    return result


ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}


def errors(*statuses: int) -> dict:
    descriptions = {400: "bad request", 401: "no valid credentials", 403: "not allowed", 404: "not found",
                    409: "conflict with the current state", 422: "invalid request"}
    return {str(status): answer(descriptions[status], ERROR) for status in statuses}


def link(operation_id: str, parameters: dict | None = None, request_body: dict | None = None) -> dict:
    result: dict[str, Any] = {"operationId": operation_id}
    if parameters:
        result["parameters"] = parameters
    if request_body:
        result["requestBody"] = request_body
    return result
