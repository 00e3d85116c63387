"""What both bank twins share and what is not part of any planted failure.

The app factory, the connection pool, bearer-token authentication, the JSON error handlers
for HTTP errors and validation errors, `GET /me` and `GET /openapi.json`. Each twin's
blueprint adds its own routes and its own handler for unexpected exceptions (500).
"""

from __future__ import annotations

import hashlib
import secrets
from functools import wraps
from typing import Callable, TypeVar

from flask import Blueprint, Flask, current_app, g, jsonify, request
from psycopg_pool import ConnectionPool
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from plumbline.lab.arrivals import install as install_arrivals
from plumbline.lab.bank.openapi import SPEC

POOL_EXTENSION = "plumbline_bank_pool"

F = TypeVar("F", bound=Callable)

bp = Blueprint("bank_common", __name__)


def open_pool(db_url: str, size: int) -> ConnectionPool:
    """A pool of `size` open connections, each in autocommit mode and at SERIALIZABLE.

    Autocommit: a statement outside `with conn.transaction():` is a transaction of its own.
    SERIALIZABLE is CockroachDB's default (and only) isolation; PostgreSQL must be told.
    All connections are opened up front so a burst of requests does not queue while the pool grows.
    """
    pool = ConnectionPool(
        db_url, min_size=size, max_size=size, kwargs={"autocommit": True}, configure=_serializable,
        timeout=60, open=False,
    )
    pool.open(wait=True, timeout=30)
    return pool


def _serializable(conn) -> None:
    conn.execute("SET default_transaction_isolation = 'serializable'")


def create_app(pool: ConnectionPool, *, name: str = "plumbline.lab.bank") -> Flask:
    """A Flask app wired to `pool` with the shared routes and error handlers; the caller adds a twin's blueprint."""
    app = Flask(name)
    app.extensions[POOL_EXTENSION] = pool
    app.json.sort_keys = False
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(ValidationError, validation_error)
    app.register_blueprint(bp)
    install_arrivals(app)  # X-Lab-Burst arrival times for burst measurements; not in the OpenAPI document
    return app


def db_pool() -> ConnectionPool:
    """The pool of the app serving the current request."""
    return current_app.extensions[POOL_EXTENSION]


def issue_token() -> tuple[str, str]:
    """A new bearer token and the SHA-256 hex digest that is the only form the database stores."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def login_required(view: F) -> F:
    """Resolve `Authorization: Bearer <token>` to `g.user_id` on the server, or answer 401."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return jsonify(error="missing bearer token"), 401
        with db_pool().connection() as conn:
            row = conn.execute("SELECT id FROM users WHERE token_hash = %s", (hash_token(token),)).fetchone()
        if row is None:
            return jsonify(error="invalid bearer token"), 401
        g.user_id = str(row[0])
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def http_error(exc: HTTPException):
    """Every HTTP error (abort(), 404 for unknown URLs, 400 for malformed JSON, 405, 415) as a JSON body."""
    return jsonify(error=exc.description or exc.name), exc.code or 500


def validation_error(exc: ValidationError):
    """A request body that fails its pydantic model: 422 with what was wrong, without echoing the input."""
    detail = exc.errors(include_url=False, include_context=False, include_input=False)
    return jsonify(error="invalid request body", detail=detail), 422


@bp.get("/me")
@login_required
def get_me():
    with db_pool().connection() as conn:
        row = conn.execute("SELECT id, email, name FROM users WHERE id = %s", (g.user_id,)).fetchone()
    return jsonify(id=str(row[0]), email=row[1], name=row[2])


@bp.get("/openapi.json")
def get_openapi():
    return jsonify(SPEC)
