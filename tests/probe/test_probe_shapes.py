"""API shapes the lab does not have, as public apps write them: envelopes (`{"article": {...}}`), objects named by
a path segment, sign-ups, state read under another resource, specs that declare no security, shared counters.

Each behaviour test runs the probe against a small local API twice, broken and correct, and expects the finding
only on the broken one."""

from __future__ import annotations

import threading
import time
from itertools import count

import pytest
from local_api import Api, json_content

from plumbline.probe.spec import example_of, parse

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NAME = {"name": "name", "in": "path", "required": True, "schema": STRING}
ID = {"name": "id", "in": "path", "required": True, "schema": INTEGER, "example": 1}
BEARER = {"components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
          "security": [{"bearer": []}]}


def document(paths: dict, **extra) -> dict:
    return {"openapi": "3.0.0", "info": {"title": "shape", "version": "1"}, "paths": paths, **extra}


def answer(schema: dict, status: str = "200") -> dict:
    return {"responses": {status: {"description": "ok", **json_content(schema)}}}


def obj(**properties) -> dict:
    return {"type": "object", "properties": properties}


# ---- the spec ------------------------------------------------------------------------------------------------


def test_links_reach_into_envelopes_and_path_named_creates():
    article = obj(article=obj(slug=STRING, title=STRING))
    spec = parse(document({
        "/articles": {"post": {"operationId": "NewArticle", "requestBody": json_content(obj(article=obj(
            title=STRING))), **answer(article)}},
        "/articles/{slug}": {"get": {"operationId": "GetArticle", "parameters": [
            {"name": "slug", "in": "path", "required": True, "schema": STRING}], **answer(article)}},
        "/items/{name}": {"parameters": [NAME],
                          "post": {"operationId": "NewItem", **answer(obj(id=INTEGER), "201")},
                          "get": {"operationId": "GetItem", **answer(obj(id=INTEGER))}},
    }))
    assert [(link.target, link.parameters) for link in spec.operation("NewArticle").links] == [
        ("GetArticle", {"slug": "$response.body#/article/slug"})]
    assert [(link.target, link.parameters) for link in spec.operation("NewItem").links] == [
        ("GetItem", {"name": "$request.path.name"})]
    assert spec.operation("NewItem").named_by == "name"


def test_request_bodies_leave_out_read_only_properties_and_security_is_declared_or_not():
    schema = {"type": "object", "required": ["id", "price"],
              "properties": {"id": {**INTEGER, "readOnly": True}, "price": {"type": "number"}}}
    assert example_of(parse(document({"/x": {"post": {"requestBody": json_content(schema), **answer(obj())}}}))
                      .operations[0].body_schema) == {"price": 1.0}
    paths = {"/x": {"get": answer(obj())}}
    assert not parse(document(paths)).declares_security
    assert parse(document({"/x": {"get": {**answer(obj()), "security": []}}})).declares_security
    assert parse(document(paths, **BEARER)).declares_security


# ---- behaviour -----------------------------------------------------------------------------------------------


SIGN_UP = document({"/register": {"post": {
    "operationId": "Register", "security": [],
    "requestBody": json_content({"type": "object", "required": ["username"], "properties": {"username": STRING}}),
    **answer(obj(message=STRING), "201")}}})


def _sign_up(unhandled: bool):
    """A registration that checks the name, then inserts it into a unique column: a race's losers hit the unique
    key, and either fail with a 500 (`unhandled`) or are refused with a 409."""
    names: set[str] = set()

    def handle(method, path, body):
        name = body["username"]
        if name in names:
            return 409, {"message": "already taken"}
        time.sleep(0.02)
        if name in names:  # the unique key refuses the second insert
            return (500, {"message": "internal error"}) if unhandled else (409, {"message": "already taken"})
        names.add(name)
        return 201, {"message": "registered"}
    return handle


@pytest.mark.parametrize("unhandled", [True, False])
def test_a_sign_up_raced_on_one_name_is_judged_by_how_its_losers_fail(unhandled):
    api = Api(SIGN_UP, _sign_up(unhandled))
    try:
        document_ = api.probe({"PL402", "PL404", "PL401", "PL403"})
    finally:
        api.close()
    assert [f.rule_id for f in document_.findings] == (["PL404"] if unhandled else [])
    notes = {(c.check, c.operation): c.note for c in document_.coverage}
    assert notes[("duplicate creates", "POST /register")].endswith("judged for server errors only")
    assert ("concurrent actions", "POST /register") not in notes  # a sign-up is not an action on an object


COMMENTS = document({
    "/posts/{slug}/comments": {
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": STRING, "example": "hello"}],
        "get": {"operationId": "ListComments", **answer(obj(comments={"type": "array", "items": obj(
            id=INTEGER, body=STRING, createdAt={"type": "string", "format": "date-time"})}))},
        "post": {"operationId": "AddComment", "requestBody": json_content(obj(comment=obj(body=STRING))),
                 **answer(obj(comment=obj(id=INTEGER, body=STRING,
                                          createdAt={"type": "string", "format": "date-time"})))}},
    "/posts/{slug}/comments/{id}": {"parameters": [
        {"name": "slug", "in": "path", "required": True, "schema": STRING}, {**ID, "example": None}],
        "delete": {"operationId": "DeleteComment", "responses": {"204": {"description": "deleted"}}}},
})


def _comments(takes_anything: bool):
    """Comments in an envelope, read back only in the listing; `takes_anything` builds the comment from every
    field sent (the client sets `id` and `createdAt`), else only from `body`. A field of an unknown kind makes
    either refuse the whole request, as strict schemas do."""
    comments: list[dict] = []
    ids = count(1)

    def handle(method, path, body):
        if method == "GET":
            return 200, {"comments": comments}
        sent = body["comment"]
        if "role" in sent:
            return 422, {"errors": {"role": ["unknown field"]}}
        made = {"id": next(ids), "body": sent["body"], "createdAt": "2026-01-01T00:00:00+00:00"}
        if takes_anything:
            made.update({k: v if k != "createdAt" else v + "+00:00" for k, v in sent.items()})
        comments.append(made)
        return 200, {"comment": made}
    return handle


@pytest.mark.parametrize("takes_anything", [True, False])
def test_mass_assignment_inside_an_envelope_read_back_from_the_listing(takes_anything):
    api = Api(COMMENTS, _comments(takes_anything))
    try:
        document_ = api.probe({"PL408"})
    finally:
        api.close()
    found = [f for f in document_.findings if f.rule_id == "PL408"]
    assert len(found) == (1 if takes_anything else 0), [f.message for f in document_.findings]
    if takes_anything:
        assert "createdAt=" in found[0].message and found[0].location.route == "/posts/{slug}/comments"


SHOP = document({
    "/sweets": {"get": {"operationId": "ListSweets", **answer({"type": "array", "items": obj(
        id=INTEGER, name=STRING, quantity=INTEGER)})}},
    "/inventory/{id}/purchase": {"parameters": [ID], "post": {
        "operationId": "Purchase", **answer(obj(message=STRING))}},
}, **BEARER)


def _sweets(racy: bool):
    """A seeded catalogue whose stock is bought under `/inventory/{id}` and shown only in `/sweets`; `racy`
    reads the stock, waits, then writes it back decremented."""
    sweets = [{"id": 1, "name": "truffle", "quantity": 60}, {"id": 2, "name": "fudge", "quantity": 40}]
    lock = threading.Lock()

    def buy(sweet) -> bool:
        quantity = sweet["quantity"]
        if quantity == 0:
            return False
        time.sleep(0.005)
        sweet["quantity"] = quantity - 1
        return True

    def handle(method, path, body):
        if method == "GET":
            return 200, sweets
        sweet = next((s for s in sweets if path == f"/inventory/{s['id']}/purchase"), None)
        if sweet is None:
            return 404, {"message": "no such sweet"}
        if racy:
            bought = buy(sweet)
        else:
            with lock:
                bought = buy(sweet)
        return (200, {"message": "purchased"}) if bought else (400, {"message": "out of stock"})
    return handle


@pytest.mark.parametrize("racy", [True, False])
def test_an_action_whose_effect_shows_under_another_resource(racy):
    api = Api(SHOP, _sweets(racy))
    try:
        document_ = api.probe({"PL401", "PL403"})  # not PL404: a burst overflows the test server's listen queue
    finally:
        api.close()
    assert {f.rule_id for f in document_.findings} == ({"PL401", "PL403"} if racy else set()), [
        f.message for f in document_.findings]
    entry = next(c for c in document_.coverage if c.operation == "POST /inventory/{id}/purchase")
    assert (entry.status, entry.note) == ("ran", "a seeded value from the spec")


def _items(put_needs_token: bool):
    """Items named by their path, in a spec that declares no security: reading and creating an item need a
    token, and so does changing it unless `put_needs_token` is False (the one route its author forgot)."""
    items: dict[str, dict] = {}
    ids = count(1)

    def handle(method, path, body, headers):
        signed_in = headers.get("Authorization", "").endswith("-token-1234")
        name = path.rsplit("/", 1)[-1]
        if not signed_in and (method != "PUT" or put_needs_token):
            return 401, {"message": "missing token"}
        if method == "POST":
            if name in items:
                return 400, {"message": "exists"}
            items[name] = {"id": next(ids), "name": name, "price": body["price"]}
            return 201, items[name]
        if name not in items:
            return 404, {"message": "not found"}
        if method == "PUT":
            items[name]["price"] = body["price"]
        return 200, items[name]
    return handle


ITEMS = document({"/items/{name}": {
    "parameters": [NAME],
    "get": {"operationId": "GetItem", **answer(obj(id=INTEGER, name=STRING, price={"type": "number"}))},
    "post": {"operationId": "NewItem", "requestBody": json_content(obj(price={"type": "number"})),
             **answer(obj(id=INTEGER, name=STRING, price={"type": "number"}), "201")},
    "put": {"operationId": "SetPrice", "requestBody": json_content(obj(price={"type": "number"})),
            **answer(obj(id=INTEGER, name=STRING, price={"type": "number"}))},
}})


@pytest.mark.parametrize("put_needs_token", [False, True])
def test_a_spec_without_security_learns_who_needs_credentials_from_the_resource(put_needs_token):
    api = Api(ITEMS, _items(put_needs_token), with_headers=True)
    try:
        document_ = api.probe({"PL406"})
    finally:
        api.close()
    found = [(f.rule_id, f.location.method, f.confidence) for f in document_.findings]
    assert found == ([] if put_needs_token else [("PL406", "PUT", "medium")])
    if not put_needs_token:
        assert "GET /items/{name} answers 401/403" in document_.findings[0].message


POSTS = document({
    "/posts": {"get": {"operationId": "ListPosts", **answer({"type": "array", "items": obj(
        id=INTEGER, title=STRING, claps=INTEGER)})},
               "post": {"operationId": "NewPost", "requestBody": json_content(obj(title=STRING)),
                        **answer(obj(id=INTEGER, title=STRING, claps=INTEGER), "201")}},
    "/posts/{id}": {"parameters": [{**ID, "example": None}], "get": {
        "operationId": "GetPost", **answer(obj(id=INTEGER, title=STRING, claps=INTEGER))}},
    "/posts/{id}/clap": {"parameters": [{**ID, "example": None}], "post": {
        "operationId": "Clap", **answer(obj(id=INTEGER, claps=INTEGER))}},
}, **BEARER)


def _posts(listed_to_all: bool):
    """Posts that anyone signed in may clap; `listed_to_all` lists every post to every caller (a forum), else
    each caller sees only their own (private notes, where another's clap reaches what they cannot see)."""
    posts: dict[int, dict] = {}
    ids = count(1)

    def handle(method, path, body, headers):
        caller = headers.get("Authorization", "").removeprefix("Bearer ").removesuffix("-token-1234")
        if caller not in ("alice", "bob"):
            return 401, {"message": "sign in"}
        if (method, path) == ("POST", "/posts"):
            key = next(ids)
            posts[key] = {"id": key, "title": body["title"], "claps": 0, "author": caller}
            return 201, posts[key]
        if path == "/posts":
            return 200, [p for p in posts.values() if listed_to_all or p["author"] == caller]
        post = posts.get(int(path.split("/")[2]))
        if post is None:
            return 404, {"message": "not found"}
        if path.endswith("/clap"):
            post["claps"] += 1
        return 200, post
    return handle


@pytest.mark.parametrize("listed_to_all", [True, False])
def test_a_counter_others_raise_on_a_public_object_is_not_cross_identity_access(listed_to_all):
    api = Api(POSTS, _posts(listed_to_all), with_headers=True)
    try:
        document_ = api.probe({"PL405"}, identities=("alice", "bob"))
    finally:
        api.close()
    writes = [f.location.route for f in document_.findings if f.location.method == "POST"]
    assert writes == ([] if listed_to_all else ["/posts/{id}/clap"])
