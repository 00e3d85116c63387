"""What both records twins share and what is not part of any planted failure.

The app factory, DynamoDB access, registration and bearer-token auth, JSON error pages and
`GET /openapi.json`. The twins' own routes live in `vulnerable.py` and `hardened.py`.

One boto3 resource serves every request thread of a twin. Resource objects hold lazily loaded
attributes and are documented as not thread-safe; the handlers only call actions on `Table`
objects (get_item, put_item, query, update_item), which are stateless calls on the underlying
client, and that client is thread-safe. Transactions go through `resource.meta.client`, which
takes and returns plain Python values as the `Table` API does.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps
from typing import Annotated, Any

from flask import Blueprint, Flask, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from werkzeug.exceptions import HTTPException

from plumbline.lab.arrivals import install as install_arrivals
from plumbline.lab.backends import DynamoConfig
from plumbline.lab.records.openapi import SPEC
from plumbline.lab.records.tables import TableNames

EXTENSION = "plumbline.records"


@dataclass
class Storage:
    """One twin's DynamoDB handles: the resource, and a `Table` per table name."""

    dynamo: DynamoConfig
    names: TableNames
    resource: Any

    @classmethod
    def connect(cls, dynamo: DynamoConfig, names: TableNames) -> "Storage":
        return cls(dynamo=dynamo, names=names, resource=dynamo.resource())

    @property
    def client(self):
        return self.resource.meta.client

    @property
    def users(self):
        return self.resource.Table(self.names.users)

    @property
    def tokens(self):
        return self.resource.Table(self.names.tokens)

    @property
    def records(self):
        return self.resource.Table(self.names.records)

    @property
    def aggregates(self):
        return self.resource.Table(self.names.aggregates)

    @property
    def stream_events(self):
        return self.resource.Table(self.names.stream_events)


def storage() -> Storage:
    return current_app.extensions[EXTENSION]


def plain(value: Any) -> Any:
    """An item as JSON: DynamoDB numbers come back as Decimal, the API speaks integers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, set):
        return sorted(plain(item) for item in value)
    return value


def error(message: str, status: int, detail: Any = None):
    body = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return jsonify(body), status


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def login_required(view):
    """Resolve `Authorization: Bearer <token>` to `g.user_id` server-side, or answer 401."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or len(token) > 512:
            return _unauthorized()
        found = storage().tokens.get_item(Key={"token_hash": token_digest(token.strip())}, ConsistentRead=True)
        if "Item" not in found:
            return _unauthorized()
        g.user_id = found["Item"]["user_id"]
        return view(*args, **kwargs)

    return wrapper


def _unauthorized():
    response, status = error("missing or invalid bearer token", 401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="records"'
    return response, status


Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: Email
    name: Name


def json_object() -> dict:
    """The request body as a JSON object, or a 400 raised as a JSON error."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadJSON()
    return payload


class BadJSON(HTTPException):
    code = 400
    description = "request body must be a JSON object (Content-Type: application/json)"


accounts = Blueprint("records_accounts", __name__)


@accounts.post("/users")
def create_user():
    new = NewUser.model_validate(json_object())
    user_id = str(uuid.uuid4())
    token = secrets.token_urlsafe(32)
    names = storage().names
    # One transaction: a user never exists without its token, nor a token without its user; and the
    # conditional put of the email item makes the email unique (a concurrent duplicate is cancelled).
    client = storage().client
    try:
        client.transact_write_items(TransactItems=[
            {
                "Put": {
                    "TableName": names.emails,
                    "Item": {"email": new.email.lower(), "user_id": user_id},
                    "ConditionExpression": "attribute_not_exists(email)",
                }
            },
            {
                "Put": {
                    "TableName": names.users,
                    "Item": {"user_id": user_id, "email": new.email, "name": new.name},
                    "ConditionExpression": "attribute_not_exists(user_id)",
                }
            },
            {
                "Put": {
                    "TableName": names.tokens,
                    "Item": {"token_hash": token_digest(token), "user_id": user_id},
                    "ConditionExpression": "attribute_not_exists(token_hash)",
                }
            },
        ])
    except client.exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            return error("email already registered", 409)
        raise
    return jsonify(id=user_id, token=token), 201


@accounts.get("/me")
@login_required
def get_me():
    found = storage().users.get_item(Key={"user_id": g.user_id}, ConsistentRead=True)
    if "Item" not in found:
        return error("user not found", 404)
    user = found["Item"]
    return jsonify(id=user["user_id"], email=user["email"], name=user["name"])


@accounts.get("/openapi.json")
def openapi():
    return jsonify(SPEC)


def _http_error(exc: HTTPException):
    return error(exc.description or exc.name, exc.code or 500)


def _validation_error(exc: ValidationError):
    return error("invalid request", 422, exc.errors(include_url=False, include_context=False, include_input=False))


def create_app(twin: str, store: Storage) -> Flask:
    """The Flask app of one twin with the shared routes; the caller registers the twin's blueprint."""
    app = Flask(f"plumbline.lab.records.{twin}", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.json.sort_keys = False
    app.extensions[EXTENSION] = store
    app.register_blueprint(accounts)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ValidationError, _validation_error)
    install_arrivals(app)  # X-Lab-Burst arrival times for burst measurements; not in the OpenAPI document
    return app
