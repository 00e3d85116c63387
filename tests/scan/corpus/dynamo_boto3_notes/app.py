"""Notes on DynamoDB through a boto3 resource: one blueprint, flask_login for the caller."""

import uuid

import boto3
from boto3.dynamodb.conditions import Attr, Key
from flask import Blueprint, abort, jsonify, request
from flask_login import current_user, login_required
from pydantic import BaseModel, ConfigDict

from store import notes_table

dynamodb = boto3.resource("dynamodb")
notes = dynamodb.Table("notes")
counters = dynamodb.Table("note_counters")
bp = Blueprint("notes", __name__)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    body: str


@bp.get("/notes/<note_id>")
@login_required
def show_note(note_id):
    found = notes.get_item(Key={"note_id": note_id})  # expect: PL301
    return jsonify(found.get("Item"))


@bp.get("/mine/<note_id>")
@login_required
def show_my_note(note_id):
    found = notes.get_item(Key={"note_id": note_id})  # ok: PL301
    item = found.get("Item")
    if item is None or item["owner_id"] != current_user.id:
        abort(404)
    return jsonify(item)


@bp.get("/folders/<folder>")
@login_required
def list_folder(folder):
    page = notes.query(KeyConditionExpression=Key("owner_id").eq(current_user.id) & Key("folder").eq(folder))  # ok: PL301
    return jsonify(page["Items"])


@bp.delete("/notes/<note_id>")
@login_required
def delete_note(note_id):
    notes.delete_item(Key={"note_id": note_id}, ConditionExpression=Attr("owner_id").eq(current_user.id))  # ok: PL301
    return "", 204


@bp.post("/notes")
@login_required
def create_note():
    body = request.get_json()
    body["note_id"] = str(uuid.uuid4())
    notes.put_item(Item=body)  # expect: PL302
    return jsonify(id=body["note_id"]), 201


@bp.post("/drafts")
@login_required
def create_draft():
    extra = request.get_json()
    notes.put_item(Item={**extra, "note_id": str(uuid.uuid4()), "owner_id": current_user.id})  # expect: PL302
    return "", 201


@bp.post("/checked-notes")
@login_required
def create_checked_note():
    new = NoteIn.model_validate(request.get_json())
    item = {"note_id": str(uuid.uuid4()), "owner_id": current_user.id, **new.model_dump()}
    notes.put_item(Item=item, ConditionExpression="attribute_not_exists(note_id)")  # ok: PL302, PL303
    return "", 201


@bp.post("/quick-notes")
@login_required
def create_quick_note():
    data = request.get_json()
    item = {"note_id": str(uuid.uuid4()), "owner_id": current_user.id, "title": data["title"]}
    notes.put_item(Item=item)  # ok: PL302, PL303
    return "", 201


@bp.post("/notes/<note_id>/views")
@login_required
def count_view(note_id):
    found = counters.get_item(Key={"owner_id": current_user.id, "note_id": note_id})
    item = found["Item"]
    item["views"] = item["views"] + 1
    counters.put_item(Item=item)  # expect: PL303
    return "", 204


@bp.post("/notes/<note_id>/likes")
@login_required
def count_like(note_id):
    counters.update_item(Key={"owner_id": current_user.id, "note_id": note_id},  # ok: PL303
                         UpdateExpression="SET likes = likes + :one", ExpressionAttributeValues={":one": 1})
    return "", 204


@bp.post("/notes/<note_id>/title")
@login_required
def rename(note_id):
    found = counters.get_item(Key={"owner_id": current_user.id, "note_id": note_id})
    old = found["Item"]["title"]
    counters.update_item(Key={"owner_id": current_user.id, "note_id": note_id},  # ok: PL303
                         UpdateExpression="SET title = :new", ConditionExpression="title = :old",
                         ExpressionAttributeValues={":new": request.get_json()["title"], ":old": old})
    return "", 204


@bp.post("/notes/<note_id>/share")
@login_required
def share(note_id):
    friend = request.get_json()["friend"]
    notes_table().put_item(Item={"owner_id": friend, "note_id": note_id, "shared_by": current_user.id})  # expect: PL301
    notes_table().put_item(Item={"owner_id": current_user.id, "note_id": note_id, "shared_with": friend})  # expect: PL304
    return "", 204


archive = dynamodb.Table("archived_notes")


@bp.post("/notes/<note_id>/archive")
@login_required
def archive_note(note_id):
    found = notes.get_item(Key={"owner_id": current_user.id, "note_id": note_id})
    archive.put_item(Item=found["Item"])
    notes.delete_item(Key={"owner_id": current_user.id, "note_id": note_id})  # ok: PL304
    return "", 204


@bp.post("/notes/<note_id>/pin")
@login_required
def pin(note_id):
    key = {"owner_id": current_user.id, "note_id": note_id}
    if request.get_json().get("pinned"):
        notes.update_item(Key=key, UpdateExpression="SET pinned = :t", ExpressionAttributeValues={":t": True},
                          ConditionExpression="attribute_exists(note_id)")
    else:
        notes.update_item(Key=key, UpdateExpression="REMOVE pinned",  # ok: PL304
                          ConditionExpression="attribute_exists(note_id)")
    return "", 204
