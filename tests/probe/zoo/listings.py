"""Classified listings and a caller's profile on DynamoDB, where mass assignment hides under plain names.

A seller posts `title`, `description` and a `plan`; the server sets `owner` (the caller), `status` (pending
until moderated: only the owner sees a pending listing) and `price` (the fee of the plan). `GET /profile`
and `PATCH /profile` are the caller's profile, whose `role` only an administrator may change. Identities:
static bearer tokens.

Vulnerable twin: every attribute of the stored item is taken from the request body when it is there (names
that are not attributes are ignored, as an ORM's `setattr` loop does), so a create may set `owner` (file a
listing as someone else), `status` (skip moderation) and `price` (pay nothing), and a profile PATCH may set
`role`. A probe must guess these names from the response schemas: `is_admin` or `balance` go nowhere.
Hardened twin: only the declared fields are accepted (422 for any other), the server's values are always its
own.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from flask import abort, g, jsonify

from zoo import Backends, Built, Planted
from zoo.clients import Clients
from zoo.storage import DynamoTables
from zoo.web import (answer, bearer_identities, create_app, document, errors, json_body, link, login_required, me,
                     operation, path_parameter, static_tokens)

PLAN_PRICES = {"basic": 0, "premium": 500}
KEYS = ("id", "username")

PLANTED = [
    Planted(("PL408",), "POST", "/listings",
            "owner, status and price, attributes of a listing, are taken from the body"),
    Planted(("PL408",), "PATCH", "/profile", "role, an attribute of a profile, is taken from the body"),
]
SOUND = []
KNOWN_FALSE_ALARMS = []

LISTING_FIELDS = {"title": {"type": "string", "minLength": 1, "maxLength": 100},
                  "description": {"type": "string", "maxLength": 2000},
                  "plan": {"type": "string", "enum": list(PLAN_PRICES)}}
PROFILE_FIELDS = {"display_name": {"type": "string", "minLength": 1, "maxLength": 80},
                  "bio": {"type": "string", "maxLength": 500}}


def body_schema(properties: dict, required: list[str], hardened: bool, **extra) -> dict:
    """The request schema; the vulnerable twin checks the declared fields but lets any other one through."""
    return {"type": "object", "required": required, "properties": properties,
            "additionalProperties": not hardened, **extra}


LISTING = {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"}, "owner": {"type": "string"}, **LISTING_FIELDS,
    "status": {"type": "string", "enum": ["pending", "approved"]}, "price": {"type": "integer"}}}
PROFILE = {"type": "object", "properties": {"username": {"type": "string"}, **PROFILE_FIELDS,
                                            "role": {"type": "string", "enum": ["member", "admin"]}}}
LISTING_ID = path_parameter("listing_id", {"type": "string", "format": "uuid"})
SPEC = document("Listings", {
    "/me": {"get": operation("getMe", {"200": answer("the caller", {"type": "object", "properties": {
        "id": {"type": "string"}, "username": {"type": "string"}}}), **errors(401)})},
    "/listings": {"post": operation("createListing", {"201": answer("created, pending moderation", LISTING, links={
        "GetListing": link("getListing", {"listing_id": "$response.body#/id"})}), **errors(401, 422)},
        body=body_schema(LISTING_FIELDS, ["title", "plan"], hardened=True))},
    "/listings/{listing_id}": {"get": operation("getListing", {
        "200": answer("the listing (a pending one to its owner only)", LISTING), **errors(401, 404)},
        parameters=[LISTING_ID])},
    "/profile": {
        "get": operation("getProfile", {"200": answer("the caller's profile", PROFILE), **errors(401)}),
        "patch": operation("updateProfile", {"200": answer("updated: the profile", PROFILE), **errors(401, 422)},
                           body=body_schema(PROFILE_FIELDS, [], hardened=True, minProperties=1)),
    },
})


def build(twin: str, backends: Backends) -> Built:
    hardened = twin == "hardened"
    tables = DynamoTables(backends.dynamodb_endpoint, f"listings-{twin}", {"listings": ("id",),
                                                                           "profiles": ("username",)})
    client = tables.client
    tokens = static_tokens()
    app = create_app(f"zoo.listings.{twin}", SPEC, tokens)
    listing_in = body_schema(LISTING_FIELDS, ["title", "plan"], hardened)
    profile_in = body_schema(PROFILE_FIELDS, [], hardened, minProperties=1)

    def get(table: str, key: dict) -> dict | None:
        item = client.get_item(TableName=tables.names[table], Key=_item(key), ConsistentRead=True).get("Item")
        return _plain(item) if item else None

    def put(table: str, item: dict) -> None:
        client.put_item(TableName=tables.names[table], Item=_item(item))

    def profile() -> dict:
        return get("profiles", {"username": g.user}) or {"username": g.user, "display_name": g.user, "bio": "",
                                                         "role": "member"}

    app.add_url_rule("/me", "me", login_required(me))

    @app.post("/listings")
    @login_required
    def create_listing():
        body = json_body(listing_in)
        server_side = {"id": str(uuid.uuid4()), "owner": g.user, "status": "pending",
                       "price": PLAN_PRICES[body["plan"]]}
        # Mass assignment (vulnerable): every attribute a listing has is taken from the body when it is there, so
        # its owner, status or price win over the server's.
        listing = {"description": "", **(server_side | attributes(body, LISTING) if not hardened else
                                         body | server_side)}
        put("listings", listing)
        return jsonify(listing), 201

    @app.get("/listings/<listing_id>")
    @login_required
    def get_listing(listing_id):
        listing = get("listings", {"id": listing_id})
        if listing is None or listing.get("status") != "approved" and listing.get("owner") != g.user:
            abort(404, "no such listing")
        return jsonify(listing)

    @app.get("/profile")
    @login_required
    def get_profile():
        return jsonify(profile())

    @app.patch("/profile")
    @login_required
    def update_profile():
        # Mass assignment (vulnerable): every attribute a profile has, role included, is taken from the body.
        updated = {**profile(), **attributes(json_body(profile_in), PROFILE)}
        put("profiles", updated)
        return jsonify(updated)

    return Built(app, *bearer_identities(tokens), close=tables.close)


def attributes(body: dict, schema: dict) -> dict:
    """The body's values for attributes the stored object has (its key excepted); any other name is ignored, as
    an ORM's `setattr` loop over the model's columns does."""
    return {name: value for name, value in body.items() if name in schema["properties"] and name not in KEYS}


def _item(value: dict) -> dict:
    serializer = TypeSerializer()
    return {key: serializer.serialize(_decimals(item)) for key, item in value.items()}


def _decimals(value):
    """JSON numbers as DynamoDB wants them: floats as Decimal (its serializer refuses floats)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def _plain(item: dict) -> dict:
    deserializer = TypeDeserializer()
    return {key: _numbers(deserializer.deserialize(value)) for key, value in item.items()}


def _numbers(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


# ---- proofs without the probe (zoo.clients) -------------------------------------------------------------


def listing_takes_server_fields(clients: Clients) -> str | None:
    sent = {"title": "bike", "plan": "premium", "owner": "bob", "status": "approved", "price": 0}
    response = clients["alice"].post("/listings", json=sent)
    if response.status_code != 201:
        return None
    stored = clients["bob"].get(f"/listings/{response.json()['id']}")
    taken = {key: value for key, value in stored.json().items() if key in sent and key not in ("title", "plan")
             and value == sent[key]} if stored.is_success else {}
    return f"stored as sent: {taken}" if taken else None


def profile_takes_role(clients: Clients) -> str | None:
    clients["alice"].patch("/profile", json={"display_name": "Alice", "role": "admin"})
    role = clients["alice"].get("/profile").json()["role"]
    return "alice made herself admin" if role == "admin" else None


PROOFS = {("POST", "/listings"): listing_takes_server_fields, ("PATCH", "/profile"): profile_takes_role}
