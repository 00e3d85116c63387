"""The records API with every failure planted. Read it beside `hardened.py`: same routes, same order.

Do not copy anything from this file into a real service.
"""

from __future__ import annotations

import uuid

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer
from flask import Blueprint, g, jsonify, request

from plumbline.lab.faults import fault_point
from plumbline.lab.records.common import error, login_required, plain, storage

bp = Blueprint("records_vulnerable", __name__)


def owner_of(record_id: str) -> str:
    # BOLA/IDOR: the partition key is taken from the client-supplied id, not from the caller's identity.
    return record_id.partition(":")[0]


@bp.post("/records")
@login_required
def create_record():
    item = request.get_json()
    # Mass assignment: the body is stored as sent; the client picks the partition (`user_id`),
    # adds any attribute (`is_admin`) and any type (a string `version`).
    item.setdefault("user_id", g.user_id)
    item["record_id"] = f"{item['user_id']}:{uuid.uuid4()}"
    storage().records.put_item(Item=item)
    return jsonify(record_id=item["record_id"]), 201


@bp.get("/records")
@login_required
def list_records():
    table = storage().records
    query = {"KeyConditionExpression": Key("user_id").eq(g.user_id)}
    items = []
    while True:
        page = table.query(**query)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return jsonify([plain(item) for item in items])


@bp.get("/records/<record_id>")
@login_required
def get_record(record_id):
    # BOLA/IDOR: any caller who knows (or guesses) a record id reads another user's record.
    found = storage().records.get_item(Key={"user_id": owner_of(record_id), "record_id": record_id})
    if "Item" not in found:
        return error("record not found", 404)
    return jsonify(plain(found["Item"]))


@bp.post("/records/<record_id>/increment")
@login_required
def increment_record(record_id):
    by = (request.get_json(silent=True) or {}).get("by", 1)
    table = storage().records
    key = {"user_id": owner_of(record_id), "record_id": record_id}
    found = table.get_item(Key=key)
    if "Item" not in found:
        return error("record not found", 404)
    item = found["Item"]
    # Lost update: read, add in Python, write the whole item back; a concurrent increment between
    # the get_item and the put_item is overwritten. `by` is not validated either.
    item["version"] = item["version"] + by
    table.put_item(Item=item)
    return jsonify(record_id=record_id, version=plain(item["version"]))


@bp.post("/records/transfer")
@login_required
def transfer():
    body = request.get_json()
    amount = body["amount"]
    table = storage().records
    # BOLA/IDOR: both keys come from the client ids, so the caller can move another user's balance.
    source_key = {"user_id": owner_of(body["source_record_id"]), "record_id": body["source_record_id"]}
    target_key = {"user_id": owner_of(body["target_record_id"]), "record_id": body["target_record_id"]}
    # Partial write: two separate writes. A crash between them loses the debited amount;
    # there is no balance condition either, so balances go negative.
    source = table.update_item(
        Key=source_key,
        UpdateExpression="SET balance = balance - :a",
        ExpressionAttributeValues={":a": amount},
        ReturnValues="UPDATED_NEW",
    )
    fault_point("transfer.after_debit")
    target = table.update_item(
        Key=target_key,
        UpdateExpression="SET balance = balance + :a",
        ExpressionAttributeValues={":a": amount},
        ReturnValues="UPDATED_NEW",
    )
    return jsonify(
        source={"record_id": body["source_record_id"], "balance": plain(source["Attributes"]["balance"])},
        target={"record_id": body["target_record_id"], "balance": plain(target["Attributes"]["balance"])},
    )


@bp.get("/aggregates")
@login_required
def get_aggregates():
    found = storage().aggregates.get_item(Key={"user_id": g.user_id})
    item = found.get("Item", {})
    return jsonify(
        user_id=g.user_id,
        record_count=plain(item.get("record_count", 0)),
        balance_total=plain(item.get("balance_total", 0)),
    )


@bp.app_errorhandler(Exception)
def internal_error(exc):
    # Error leak: the exception text (table names, key schema, expression errors) goes to the client.
    return jsonify(error=f"{type(exc).__name__}: {exc}"), 500


deserializer = TypeDeserializer()


def image(record: dict, name: str) -> dict:
    return {key: deserializer.deserialize(value) for key, value in record["dynamodb"].get(name, {}).items()}


def handle_stream_batch(event, storage):
    """Maintain per-user aggregates from a batch of records-table stream records (Lambda event shape)."""
    for record in event["Records"]:
        old, new = image(record, "OldImage"), image(record, "NewImage")
        if record["eventName"] == "INSERT":
            user_id, count, delta = new["user_id"], 1, new.get("balance", 0)
        elif record["eventName"] == "MODIFY":
            user_id, count, delta = new["user_id"], 0, new.get("balance", 0) - old.get("balance", 0)
        else:
            user_id, count, delta = old["user_id"], -1, -old.get("balance", 0)
        # Non-idempotent consumer: streams deliver at least once, and every delivery is applied,
        # so a redelivered or retried batch counts its records again.
        storage.aggregates.update_item(
            Key={"user_id": user_id},
            UpdateExpression="ADD record_count :count, balance_total :delta",
            ExpressionAttributeValues={":count": count, ":delta": delta},
        )
