"""Objects to work on, runtime expressions, the vocabulary, additivity and uniqueness checks, and coverage."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from itertools import count

import pytest
from local_api import Api
from local_api import json_content as _json
from rich.console import Console

from plumbline.findings import FindingsDocument
from plumbline.probe.engine import Probe, accepted_answer
from plumbline.probe.http import Http, Identity
from plumbline.probe.resources import Resource, Sightings, family
from plumbline.probe.spec import Operation, parse
from plumbline.report.text import render
from plumbline.vocabulary import is_owner, is_unique, nouns_named_by, words


def test_vocabulary_matches_whole_words_not_substrings():
    assert words("ownerId") == "owner id" and words("to-account") == "to account"
    assert is_unique("email") and is_unique("userName") and is_unique("coupon_code") and is_unique("name")
    assert not is_unique("postcode") and not is_unique("nickname_hint")
    assert is_owner("owner") and is_owner("author_id") and is_owner("tenantId") and not is_owner("owners_note")
    assert nouns_named_by("product_id") == {"product"}
    assert {"account", "from_account"} <= nouns_named_by("from_account_id")
    assert "p" in nouns_named_by("pid")


@pytest.mark.parametrize(("path", "noun"), [
    ("/products/{code}/buy", "product"), ("/users/{owner}/notes/{note_id}", "note"), ("/users/{owner}/notes", "note"),
    ("/wallet/spend", "wallet"), ("/api/v1/books", "book"), ("/books/v1/{title}", "book"), ("/categories", "category"),
])
def test_family_is_the_collection_a_path_addresses(path, noun):
    assert family(path) == noun


def test_runtime_expressions_read_the_request_and_the_response():
    resource = Resource(Operation("POST", "/books/v1", "AddBook"), "alice", {"book_title": "Dune", "n": {"a": 1}},
                        {"id": 3}, "/books/v1/Dune", path_values={"shelf": "s1"}, query={"code": "X1"},
                        headers={"x-book-id": "b-7"})
    assert resource.evaluate("$request.body#/book_title") == "Dune"
    assert resource.evaluate("{$request.body#/n/a}") == 1
    assert resource.evaluate("$request.path.shelf") == "s1"
    assert resource.evaluate("$request.query.code") == "X1"
    assert resource.evaluate("$response.header.X-Book-Id") == "b-7"
    assert resource.evaluate("$response.header.Location") == "Dune"
    assert resource.evaluate("$request.body#/missing") is None


def test_a_request_body_link_fills_the_path_with_the_value_sent():
    spec = parse({"openapi": "3.0.0", "info": {"title": "books", "version": "1"}, "paths": {
        "/books/v1": {"post": {"operationId": "AddBook", "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {"book_title": {"type": "string"}}}}}},
            "responses": {"200": {"description": "ok", "links": {"Get": {
                "operationId": "GetBook", "parameters": {"book_title": "$request.body#/book_title"}}}}}}},
        "/books/v1/{book_title}": {"get": {"operationId": "GetBook", "parameters": [
            {"name": "book_title", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok"}}}}}})
    creator = spec.operation("AddBook")
    resource = Resource(creator, "alice", {"book_title": "Dune-1"}, {"message": "added"}, None)
    call = Probe(spec, Http("http://127.0.0.1:1", {}), active=True, selected=set()).fill(
        spec.operation("GetBook"), [(creator.links[0], resource)])
    assert call.path == "/books/v1/Dune-1"


def test_sightings_feed_inputs_by_name_and_family():
    products = Operation("GET", "/products", "ListProducts")
    sightings = Sightings()
    sightings.record(products, {"items": [{"id": 11, "code": "SPRING", "name": "tea"},
                                          {"id": 12, "code": "WINTER", "name": "cup"}]})
    assert sightings.for_input("code", "/products/{code}/buy")[:2] == ["SPRING", "WINTER"]
    assert 11 in sightings.for_input("product_id", "/orders")
    assert 11 in sightings.for_input("pid", "/orders")
    assert sightings.for_input("account_id", "/transfers") == []


def test_a_2xx_that_says_it_failed_is_not_a_success():
    assert accepted_answer(201, {"id": 1})
    assert not accepted_answer(200, {"message": "User already exists!"})
    assert not accepted_answer(200, {"status": "failed", "detail": "x"})
    assert not accepted_answer(409, {"id": 1})
    assert accepted_answer(200, {"status": "ok", "message": "created"})


# ---- behaviour against small local APIs -------------------------------------------------------------


ITEMS = {"openapi": "3.0.0", "info": {"title": "items", "version": "1"}, "paths": {
    "/items": {"post": {"operationId": "CreateItem", "requestBody": _json({
        "type": "object", "properties": {"stock": {"type": "integer"}}}),
        "responses": {"201": {"description": "created", **_json({
            "type": "object", "properties": {"id": {"type": "string"}, "stock": {"type": "integer"}}})}}}},
    "/items/{id}": {
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": {"operationId": "GetItem", "responses": {"200": {"description": "ok"}}},
        "patch": {"operationId": "SetStock", "requestBody": _json({
            "type": "object", "properties": {"stock": {"type": "integer", "example": 5}}}),
            "responses": {"200": {"description": "ok"}}}},
}}


def test_an_action_that_sets_a_value_is_not_raced_as_if_it_added_one():
    items: dict[str, dict] = {}
    ids = count(1)

    def handle(method, path, body):
        if method == "POST":
            key = str(next(ids))
            items[key] = {"id": key, "stock": (body or {}).get("stock", 0)}
            return 201, items[key]
        item = items.get(path.rsplit("/", 1)[-1])
        if item is None:
            return 404, {"error": "not found"}
        if method == "PATCH":
            item["stock"] = body["stock"]  # sets, never adds: concurrent requests cannot lose anything
        return 200, item

    api = Api(ITEMS, handle)
    try:
        document = api.probe({"PL401", "PL403", "PL404"})
    finally:
        api.close()
    assert not document.findings, [f.message for f in document.findings]
    entry = next(c for c in document.coverage if c.operation == "PATCH /items/{id}")
    assert entry.status == "ran" and entry.note.startswith("not additive"), entry


USERS = {"openapi": "3.0.0", "info": {"title": "users", "version": "1"}, "paths": {
    "/users": {"post": {"operationId": "Register", "requestBody": _json({
        "type": "object", "properties": {"name": {"type": "string"}, "postcode": {"type": "string"}}}),
        "responses": {"201": {"description": "created"}, "200": {"description": "refused"}}}},
}}


def _users(unique_names: bool, racy: bool):
    """A registration: names unique or not; `racy` checks then inserts without a lock (a duplicate race).
    A refused duplicate answers 200 with a message, as some real APIs do."""
    rows: list[dict] = []
    lock = threading.Lock()

    def handle(method, path, body):
        if not racy:
            lock.acquire()
        try:
            taken = unique_names and any(row["name"] == body["name"] for row in rows)
            if taken:
                return 200, {"message": "User already exists!"}
            time.sleep(0.02)
            rows.append({"id": f"u{len(rows) + 1}-{time.monotonic_ns()}", **body})
            return 201, rows[-1]
        finally:
            if not racy:
                lock.release()
    return handle


@pytest.mark.parametrize(("unique_names", "racy", "expected"), [
    (False, False, "not unique"),  # a plain `name` that the API does not keep unique: nothing to race
    (True, False, "a fresh unique value"),  # unique, and refused with 200 "already exists": no finding
    (True, True, "a fresh unique value"),  # unique only sequentially: the race makes copies
])
def test_duplicate_creates_are_judged_by_what_was_made(unique_names, racy, expected):
    api = Api(USERS, _users(unique_names, racy))
    try:
        document = api.probe({"PL402"})
    finally:
        api.close()
    entry = next(c for c in document.coverage if c.operation == "POST /users")
    assert entry.note.startswith(expected), entry
    assert [f.rule_id for f in document.findings] == (["PL402"] if racy else [])
    if racy:
        assert "distinct ids" in document.findings[0].message


def test_coverage_says_what_a_passive_run_did_not_test():
    api = Api(ITEMS, lambda method, path, body: (200, {"id": "1", "stock": 3}))
    try:
        document = api.probe({"PL401", "PL402", "PL406", "PL409", "PL410"}, active=False)
    finally:
        api.close()
    notes = {(c.operation, c.check): (c.status, c.note) for c in document.coverage}
    assert notes[("PATCH /items/{id}", "concurrent actions")] == ("skipped", "needs --active")
    assert notes[("POST /items", "duplicate creates")] == ("skipped", "needs --active")
    assert notes[("GET /items/{id}", "error leaks")][0] == "ran"
    assert FindingsDocument.from_json(document.to_json()) == document
    console = Console(record=True, width=200)
    render(document, console)
    text = console.export_text()
    assert "Coverage:" in text and "PATCH /items/{id}: skipped (needs --active) PL401 PL409" in text
    assert re.search(r"\d+ of \d+ checks ran, on 1 of 3 operations", text)


WALLET = {"openapi": "3.0.0", "info": {"title": "wallet", "version": "1"}, "security": [{"bearer": []}],
          "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}, "paths": {
    "/wallet": {"get": {"operationId": "GetWallet", "responses": {"200": {"description": "the caller's wallet"}}}},
    "/wallet/spend": {"post": {"operationId": "Spend", "requestBody": _json({
        "type": "object", "properties": {"amount": {"type": "integer", "minimum": 1}}}),
        "responses": {"200": {"description": "spent"}}}},
    "/products": {"get": {"operationId": "ListProducts", "responses": {"200": {"description": "the catalogue"}}}},
    "/products/{code}/buy": {"post": {"operationId": "Buy", "parameters": [
        {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "bought"}}}},
}}


def _shop(racy: bool):
    """A caller's wallet singleton and a seeded catalogue whose stock is bought by code; `racy` reads, waits and
    writes back without a lock (lost updates), else each change holds a lock."""
    state = {"balance": 100_000, "products": [{"code": "TEA", "stock": 100_000}, {"code": "CUP", "stock": 5}]}
    lock = threading.Lock()

    def change(read, write) -> bool:
        """Take one; refused at zero."""
        if racy:
            value = read()
            time.sleep(0.005)
            if value > 0:
                write(value - 1)
            return value > 0
        with lock:
            value = read()
            if value > 0:
                write(value - 1)
            return value > 0

    def handle(method, path, body):
        if (method, path) == ("GET", "/wallet"):
            return 200, {"balance": state["balance"]}
        if (method, path) == ("POST", "/wallet/spend"):
            taken = change(lambda: state["balance"], lambda value: state.__setitem__("balance", value))
            return (200, {"ok": True}) if taken else (409, {"error": "insufficient funds"})
        if (method, path) == ("GET", "/products"):
            return 200, {"products": state["products"]}
        product = next((p for p in state["products"] if path == f"/products/{p['code']}/buy"), None)
        if method == "POST" and product is not None:
            taken = change(lambda: product["stock"], lambda value: product.__setitem__("stock", value))
            return (200, {"ok": True}) if taken else (409, {"error": "out of stock"})
        return 404, {"error": "not found"}
    return handle


@pytest.mark.parametrize("racy", [True, False])
def test_races_on_a_singleton_and_on_a_listed_object_without_a_creator(racy):
    api = Api(WALLET, _shop(racy))
    try:
        document = api.probe({"PL401", "PL403", "PL404"})
    finally:
        api.close()
    notes = {c.operation: (c.status, c.note) for c in document.coverage}
    assert notes["POST /wallet/spend"] == ("ran", "a singleton")
    assert notes["POST /products/{code}/buy"] == ("ran", "an object seen in a response")
    raced = {f.location.route for f in document.findings if f.rule_id in ("PL401", "PL403")}
    assert raced == ({"/wallet/spend", "/products/{code}/buy"} if racy else set()), [
        f.message for f in document.findings]


NOTES = {"openapi": "3.0.0", "info": {"title": "notes", "version": "1"}, "security": [{"bearer": []}],
         "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}, "paths": {
    "/me": {"get": {"operationId": "Me", "responses": {"200": {"description": "the caller"}}}},
    "/users/{owner}/notes": {"get": {"operationId": "ListNotes", "parameters": [
        {"name": "owner", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "the owner's notes"}}}},
    "/users/{owner}/notes/{note_id}": {"get": {"operationId": "GetNote", "parameters": [
        {"name": "owner", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "note_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "one note"}}}},
}}


def _notes(checks_owner: bool, public: bool = False):
    """Notes under an owner segment; `checks_owner` compares the segment with the caller (from the token);
    `public` notes are shown to anyone, even without credentials (a blog's posts): not another user's secret."""
    notes = {"u-alice": [{"note_id": "n1", "text": "alice's secret"}], "u-bob": [{"note_id": "n2", "text": "bob's"}]}

    callers = {"Bearer alice-token-1234": "u-alice", "Bearer bob-token-5678": "u-bob"}

    def handle(method, path, body, headers):
        caller = callers.get(headers.get("Authorization"))
        if caller is None and not (public and path.startswith("/users/")):
            return 401, {"error": "log in"}
        if path == "/me":
            return 200, {"id": caller}
        parts = path.strip("/").split("/")
        if len(parts) < 3 or parts[0] != "users" or parts[2] != "notes":
            return 404, {"error": "not found"}
        if checks_owner and parts[1] != caller:
            return 403, {"error": "not yours"}
        owned = notes.get(parts[1], [])
        if len(parts) == 3:
            return 200, owned
        note = next((n for n in owned if n["note_id"] == parts[3]), None)
        return (200, note) if note else (404, {"error": "not found"})
    return handle


@pytest.mark.parametrize(("checks_owner", "public"), [(False, False), (True, False), (False, True)])
def test_cross_identity_reads_by_owner_path_segment(checks_owner, public):
    api = Api(NOTES, _notes(checks_owner, public), with_headers=True)
    try:
        http = Http(api.url, {"alice": Identity("alice", "Authorization", "Bearer alice-token-1234"),
                              "bob": Identity("bob", "Authorization", "Bearer bob-token-5678")})
        document = Probe(parse(NOTES), http, active=False, selected={"PL405"}).run()
        http.close()
    finally:
        api.close()
    notes = {c.operation: (c.status, c.note) for c in document.coverage}
    assert notes["GET /users/{owner}/notes/{note_id}"][0] == "ran"
    reported = {f.location.route for f in document.findings if f.rule_id == "PL405"}
    assert reported == (set() if checks_owner or public else {"/users/{owner}/notes",
                                                                "/users/{owner}/notes/{note_id}"})


def _jwt(claims: dict) -> str:
    """An unsigned JWT-shaped token (what a reader of its claims sees; nobody verifies it here)."""
    encode = lambda part: base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")  # noqa: E731
    return f"{encode({'alg': 'HS256', 'typ': 'JWT'})}.{encode(claims)}.c2lnbmF0dXJl"


def test_an_identity_whose_id_is_only_in_its_jwt_is_still_known():
    """No /me and no login answer: the owner's id comes from the `sub` claim of the bearer token."""
    tokens = {"u-alice": _jwt({"sub": "u-alice", "exp": 4102444800}), "u-bob": _jwt({"sub": "u-bob"})}
    handle = _notes(checks_owner=False)

    def by_token(method, path, body, headers):
        caller = next((who for who, token in tokens.items() if headers.get("Authorization") == f"Bearer {token}"), None)
        legacy = {"u-alice": "Bearer alice-token-1234", "u-bob": "Bearer bob-token-5678"}
        return handle(method, path, body, {"Authorization": legacy.get(caller)})

    spec = {**NOTES, "paths": {path: item for path, item in NOTES["paths"].items() if path != "/me"}}
    api = Api(spec, by_token, with_headers=True)
    try:
        http = Http(api.url, {name: Identity(name, "Authorization", f"Bearer {tokens[f'u-{name}']}")
                              for name in ("alice", "bob")})
        assert http.claimed_id("alice") == "u-alice" and Identity("x", "X-Key", "not-a-jwt").claimed_id() is None
        document = Probe(parse(spec), http, active=False, selected={"PL405"}).run()
        every_check = Probe(parse(spec), http, active=True, selected={f"PL4{n:02d}" for n in range(1, 12)}).run()
        http.close()
    finally:
        api.close()
    assert {f.location.route for f in document.findings if f.rule_id == "PL405"} == {
        "/users/{owner}/notes", "/users/{owner}/notes/{note_id}"}
    assert not [e for e in every_check.errors if e.kind == "internal"], "checks on objects named by an identity's id"


BOOKS = {"openapi": "3.0.0", "info": {"title": "books", "version": "1"}, "paths": {
    "/books/v1": {"post": {"operationId": "AddBook", "requestBody": _json({
        "type": "object", "required": ["book_title", "secret"], "properties": {
            "book_title": {"type": "string"}, "secret": {"type": "string"}}}),
        "responses": {"200": {"description": "added", **_json({
            "type": "object", "properties": {"message": {"type": "string"}}})}}}},
    "/books/v1/{book_title}": {"get": {"operationId": "GetBook", "parameters": [
        {"name": "book_title", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "the book"}}}},
}}


def test_a_create_that_answers_200_and_names_its_object_by_a_request_field():
    spec = parse(BOOKS)
    creator = spec.operation("AddBook")
    assert creator.creates
    assert [(link.target, link.parameters) for link in creator.links] == [
        ("GetBook", {"book_title": "$request.body#/book_title"})]
    books: dict[str, dict] = {}

    def handle(method, path, body):
        if method == "POST":
            books[body["book_title"]] = {**body, "owner": "whoever"}
            return 200, {"message": "Book has been added."}
        book = books.get(path.rsplit("/", 1)[-1])
        return (200, book) if book else (404, {"error": "no such book"})

    api = Api(BOOKS, handle)
    try:
        document = api.probe({"PL408"})
    finally:
        api.close()
    assert not any("None" in url for url in [f.location.url for f in document.findings])
    finding = next(f for f in document.findings if f.rule_id == "PL408")
    assert "/books/v1" in finding.location.url and "role='admin'" in finding.message


PROFILE = {"openapi": "3.0.0", "info": {"title": "profile", "version": "1"}, "paths": {
    "/profile": {
        "get": {"operationId": "GetProfile", "responses": {"200": {"description": "the caller's profile", **_json({
            "type": "object", "properties": {"bio": {"type": "string"}, "role": {"type": "string"}}})}}},
        "patch": {"operationId": "EditProfile", "requestBody": _json({
            "type": "object", "properties": {"bio": {"type": "string"}}}),
            "responses": {"200": {"description": "edited"}}}},
}}


@pytest.mark.parametrize("takes_anything", [True, False])
def test_mass_assignment_on_a_singleton_update(takes_anything):
    profile = {"bio": "", "role": "member"}

    def handle(method, path, body):
        if method == "PATCH":
            profile.update(body if takes_anything else {k: v for k, v in body.items() if k == "bio"})
        return 200, profile

    api = Api(PROFILE, handle)
    try:
        document = api.probe({"PL408"})
    finally:
        api.close()
    assert {c.operation: c.status for c in document.coverage}["PATCH /profile"] == "ran"
    assert [f.rule_id for f in document.findings] == (["PL408"] if takes_anything else [])
    if takes_anything:
        assert "role='admin'" in document.findings[0].message


COUPONS = {"openapi": "3.0.0", "info": {"title": "coupons", "version": "1"}, "paths": {
    "/coupons": {"get": {"operationId": "ListCoupons", "responses": {"200": {"description": "the coupons"}}}},
    "/coupons/{code}/redeem": {"post": {"operationId": "Redeem", "parameters": [
        {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "redeemed"}, "409": {"description": "used up"}}}},
}}


@pytest.mark.parametrize("racy", [True, False])
def test_a_counter_raised_past_its_ceiling_field_is_an_overrun(racy):
    coupons = [{"code": f"SPRING-{n}", "uses": 0, "max_uses": 5} for n in range(6)]
    lock = threading.Lock()

    def redeem(coupon) -> bool:
        if coupon["uses"] >= coupon["max_uses"]:
            return False
        time.sleep(0.005)  # checked, then raised in another step
        coupon["uses"] += 1
        return True

    def handle(method, path, body):
        if method == "GET":
            return 200, coupons
        coupon = next((c for c in coupons if path == f"/coupons/{c['code']}/redeem"), None)
        if coupon is None:
            return 404, {"error": "no such coupon"}
        if racy:
            taken = redeem(coupon)
        else:
            with lock:
                taken = redeem(coupon)
        return (200, coupon) if taken else (409, {"error": "used up"})

    api = Api(COUPONS, handle)
    try:
        document = api.probe({"PL401", "PL403", "PL404"})
    finally:
        api.close()
    overruns = [f for f in document.findings if f.rule_id == "PL403"]
    assert len(overruns) == (1 if racy else 0), [f.message for f in document.findings]
    assert not [f for f in document.findings if f.rule_id == "PL401" and not racy]
    if racy:
        assert "of max_uses = 5" in overruns[0].message


def test_the_engine_runs_the_checks_it_is_given_and_records_their_coverage():
    from plumbline.probe.engine import Check

    seen = []

    def probe_each_read(probe):
        for operation in probe.spec.operations:
            if operation.method == "GET":
                seen.append(str(operation))
                probe.ran(operation, "a test")

    checks = [Check(("PL406",), False, 0, probe_each_read, lambda op: True)]
    probe = Probe(parse(ITEMS), Http("http://127.0.0.1:1", {}), active=False, selected={"PL406"}, checks=checks)
    document = probe.run()
    assert seen == ["GET /items/{id}"]
    assert {(c.operation, c.status, c.note) for c in document.coverage} == {
        ("GET /items/{id}", "ran", "a test"), ("POST /items", "skipped", "no object to work on"),
        ("PATCH /items/{id}", "skipped", "no object to work on")}


POSTS = {"openapi": "3.0.0", "info": {"title": "posts", "version": "1"}, "security": [{"bearer": []}],
         "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}, "paths": {
    "/posts": {
        "get": {"operationId": "ListPosts", "responses": {"200": {"description": "the posts"}}},
        "post": {"operationId": "Write", "requestBody": _json({"type": "object", "properties": {
            "title": {"type": "string"}}}), "responses": {"201": {"description": "written", **_json({
                "type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"}}})}}}},
    "/posts/{id}": {"get": {"operationId": "Read", "parameters": [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "one post"}}}},
}}


@pytest.mark.parametrize("listed_to_all", [True, False])
def test_an_object_the_api_lists_to_everyone_is_not_another_users(listed_to_all):
    posts: list[dict] = []

    def handle(method, path, body, headers):
        caller = headers.get("Authorization")
        if caller is None:
            return 401, {"error": "log in"}
        if method == "POST":
            posts.append({"id": f"p{len(posts) + 1}", "title": body["title"], "author": caller[-4:]})
            return 201, posts[-1]
        if path == "/posts":
            return 200, [p for p in posts if listed_to_all or p["author"] == caller[-4:]]
        post = next((p for p in posts if path == f"/posts/{p['id']}"), None)
        return (200, post) if post else (404, {"error": "no such post"})

    api = Api(POSTS, handle, with_headers=True)
    try:
        http = Http(api.url, {"alice": Identity("alice", "Authorization", "Bearer alice-token-1234"),
                              "bob": Identity("bob", "Authorization", "Bearer bob-token-5678")})
        document = Probe(parse(POSTS), http, active=True, selected={"PL405"}).run()
        http.close()
    finally:
        api.close()
    assert [f.location.route for f in document.findings] == ([] if listed_to_all else ["/posts/{id}"])
