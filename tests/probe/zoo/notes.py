"""Notes under nested owner paths: `/users/{owner}/notes/{note_id}`, kept in memory.

The owner segment is a user name (`GET /me` says the caller's). The create's links name the owner with
`$request.path.owner` and the note with `$response.body#/id`. Identities: static bearer tokens.

Vulnerable twin: a note is looked up by its owner segment and id, but the owner segment is never compared
with the caller, so anyone lists, reads, rewrites and deletes anyone's notes (BOLA). Hardened twin: a caller
other than the owner gets 404, as if the notes did not exist.
"""

from __future__ import annotations

import threading
import uuid

from flask import abort, g, jsonify

from zoo import Backends, Built, Planted
from zoo.clients import Clients
from zoo.web import (answer, bearer_identities, create_app, document, errors, json_body, link, login_required, me,
                     operation, path_parameter, static_tokens)

PLANTED = [
    Planted(("PL405",), "GET", "/users/{owner}/notes", "another user's notes are listed"),
    Planted(("PL405",), "GET", "/users/{owner}/notes/{note_id}", "another user's note is read"),
    Planted(("PL405",), "PUT", "/users/{owner}/notes/{note_id}", "another user's note is rewritten"),
    Planted(("PL405",), "DELETE", "/users/{owner}/notes/{note_id}", "another user's note is deleted"),
]
SOUND = []
KNOWN_FALSE_ALARMS = []

NOTE_FIELDS = {"title": {"type": "string", "minLength": 1, "maxLength": 100},
               "text": {"type": "string", "maxLength": 2000}}
NOTE_IN = {"type": "object", "required": ["title", "text"], "additionalProperties": False, "properties": NOTE_FIELDS}
NOTE = {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "owner": {"type": "string"},
                                         **NOTE_FIELDS}}
OWNER = path_parameter("owner")
NOTE_ID = path_parameter("note_id", {"type": "string", "format": "uuid"})
TO_NOTE = {"owner": "$request.path.owner", "note_id": "$response.body#/id"}
SPEC = document("Notes", {
    "/me": {"get": operation("getMe", {"200": answer("the caller", {"type": "object", "properties": {
        "id": {"type": "string"}, "username": {"type": "string"}}}), **errors(401)})},
    "/users/{owner}/notes": {
        "get": operation("listNotes", {"200": answer("the owner's notes", {"type": "array", "items": NOTE}),
                                       **errors(401, 404)}, parameters=[OWNER]),
        "post": operation("createNote", {
            "201": answer("created", NOTE, headers={"Location": {"schema": {"type": "string"}}}, links={
                "GetNote": link("getNote", TO_NOTE), "UpdateNote": link("updateNote", TO_NOTE),
                "DeleteNote": link("deleteNote", TO_NOTE)}),
            **errors(401, 404, 422)}, parameters=[OWNER], body=NOTE_IN),
    },
    "/users/{owner}/notes/{note_id}": {
        "get": operation("getNote", {"200": answer("the note", NOTE), **errors(401, 404)},
                         parameters=[OWNER, NOTE_ID]),
        "put": operation("updateNote", {"200": answer("replaced", NOTE), **errors(401, 404, 422)},
                         parameters=[OWNER, NOTE_ID], body=NOTE_IN),
        "delete": operation("deleteNote", {"204": answer("deleted"), **errors(401, 404)},
                            parameters=[OWNER, NOTE_ID]),
    },
})


def build(twin: str, backends: Backends) -> Built:
    tokens = static_tokens()
    app = create_app(f"zoo.notes.{twin}", SPEC, tokens)
    hardened = twin == "hardened"
    notes: dict[tuple[str, str], dict] = {}  # (owner, note id) -> note
    lock = threading.Lock()

    def allowed(owner: str) -> None:
        if owner not in tokens.values():
            abort(404, "no such user")
        if hardened and owner != g.user:
            abort(404, "no such user")
        # BOLA (vulnerable): the owner segment names whose notes these are, and nobody checks it is the caller.

    def note(owner: str, note_id: str) -> dict:
        allowed(owner)
        found = notes.get((owner, note_id))
        if found is None:
            abort(404, "no such note")
        return found

    app.add_url_rule("/me", "me", login_required(me))

    @app.get("/users/<owner>/notes")
    @login_required
    def list_notes(owner):
        allowed(owner)
        with lock:
            return jsonify([n for (who, _), n in notes.items() if who == owner])

    @app.post("/users/<owner>/notes")
    @login_required
    def create_note(owner):
        allowed(owner)
        created = {"id": str(uuid.uuid4()), "owner": owner, **json_body(NOTE_IN)}
        with lock:
            notes[(owner, created["id"])] = created
        return jsonify(created), 201, {"Location": f"/users/{owner}/notes/{created['id']}"}

    @app.get("/users/<owner>/notes/<note_id>")
    @login_required
    def get_note(owner, note_id):
        return jsonify(note(owner, note_id))

    @app.put("/users/<owner>/notes/<note_id>")
    @login_required
    def update_note(owner, note_id):
        replacement = json_body(NOTE_IN)
        with lock:
            note(owner, note_id).update(replacement)
            return jsonify(note(owner, note_id))

    @app.delete("/users/<owner>/notes/<note_id>")
    @login_required
    def delete_note(owner, note_id):
        with lock:
            note(owner, note_id)
            del notes[(owner, note_id)]
        return "", 204

    return Built(app, *bearer_identities(tokens))


# ---- proofs without the probe (zoo.clients) -------------------------------------------------------------


def _alices_note(clients: Clients) -> str:
    response = clients["alice"].post("/users/alice/notes", json={"title": "diary", "text": "private"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def bob_lists(clients: Clients) -> str | None:
    note_id = _alices_note(clients)
    response = clients["bob"].get("/users/alice/notes")
    seen = response.is_success and any(note["id"] == note_id for note in response.json())
    return "bob lists alice's notes" if seen else None


def bob_reads(clients: Clients) -> str | None:
    response = clients["bob"].get(f"/users/alice/notes/{_alices_note(clients)}")
    return f"bob reads alice's note: {response.status_code}" if response.is_success else None


def bob_rewrites(clients: Clients) -> str | None:
    note_id = _alices_note(clients)
    clients["bob"].put(f"/users/alice/notes/{note_id}", json={"title": "bob was here", "text": ""})
    title = clients["alice"].get(f"/users/alice/notes/{note_id}").json()["title"]
    return "bob rewrote alice's note" if title == "bob was here" else None


def bob_deletes(clients: Clients) -> str | None:
    note_id = _alices_note(clients)
    clients["bob"].delete(f"/users/alice/notes/{note_id}")
    gone = clients["alice"].get(f"/users/alice/notes/{note_id}").status_code == 404
    return "bob deleted alice's note" if gone else None


PROOFS = {("GET", "/users/{owner}/notes"): bob_lists, ("GET", "/users/{owner}/notes/{note_id}"): bob_reads,
          ("PUT", "/users/{owner}/notes/{note_id}"): bob_rewrites,
          ("DELETE", "/users/{owner}/notes/{note_id}"): bob_deletes}
