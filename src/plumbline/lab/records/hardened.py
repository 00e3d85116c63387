"""The records API with every failure fixed. Read it beside `vulnerable.py`: same routes, same order."""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, field_validator

from plumbline.lab.faults import fault_point
from plumbline.lab.records.common import error, json_object, login_required, plain, storage

bp = Blueprint("records_hardened", __name__)
log = logging.getLogger(__name__)

MAX_BALANCE = 10**12
MAX_VERSION = 10**12
MAX_INCREMENT = 1000
MAX_DATA_BYTES = 16 * 1024
MAX_DATA_DEPTH = 16
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
RecordId = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(item) for item in value), default=0)
    return 0


class NewRecord(BaseModel):
    # Mass assignment fixed: unknown fields (`user_id`, `record_id`, `is_admin`) are rejected, not stored.
    model_config = ConfigDict(extra="forbid")

    version: StrictInt = Field(ge=0, le=MAX_VERSION)
    timestamp: Annotated[str, StringConstraints(strict=True, max_length=64)]
    data: dict[str, Any]
    balance: StrictInt = Field(default=0, ge=0, le=MAX_BALANCE)

    @field_validator("timestamp")
    @classmethod
    def timezone_aware_iso(cls, value: str) -> str:
        try:
            moment = datetime.fromisoformat(value.removesuffix("Z") + ("+00:00" if value.endswith("Z") else ""))
        except ValueError:
            raise ValueError("timestamp must be an ISO-8601 date and time") from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("timestamp must carry a timezone offset (e.g. 2024-05-01T12:00:00+00:00)")
        return moment.isoformat()

    @field_validator("data", mode="before")
    @classmethod
    def storable_object(cls, value: Any) -> dict:
        if not isinstance(value, dict):
            raise ValueError("data must be a JSON object")
        encoded = json.dumps(value, allow_nan=False)
        if len(encoded.encode("utf-8")) > MAX_DATA_BYTES:
            raise ValueError(f"data must be at most {MAX_DATA_BYTES} bytes as JSON")
        if depth(value) > MAX_DATA_DEPTH:
            raise ValueError(f"data must nest at most {MAX_DATA_DEPTH} levels")
        # DynamoDB stores numbers as exact decimals (38 digits) and has no float type.
        stored = json.loads(encoded, parse_float=Decimal)
        try:
            TypeSerializer().serialize(stored)
        except (TypeError, ArithmeticError) as exc:
            raise ValueError(f"data cannot be stored: {exc}") from None
        return stored


class Increment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: StrictInt = Field(default=1, ge=1, le=MAX_INCREMENT)


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_record_id: RecordId
    target_record_id: RecordId
    amount: StrictInt = Field(gt=0, le=MAX_BALANCE)


def is_record_id(record_id: str) -> bool:
    return re.fullmatch(UUID_PATTERN, record_id) is not None


@bp.post("/records")
@login_required
def create_record():
    new = NewRecord.model_validate(json_object())
    # The partition and the id come from the server: the caller's identity and a fresh uuid4.
    item = {"user_id": g.user_id, "record_id": str(uuid.uuid4()), **new.model_dump()}
    storage().records.put_item(Item=item, ConditionExpression="attribute_not_exists(record_id)")
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
    if not is_record_id(record_id):
        return error("record not found", 404)
    # BOLA fixed: the partition key is the caller's identity, so another user's id finds nothing.
    found = storage().records.get_item(Key={"user_id": g.user_id, "record_id": record_id})
    if "Item" not in found:
        return error("record not found", 404)
    return jsonify(plain(found["Item"]))


@bp.post("/records/<record_id>/increment")
@login_required
def increment_record(record_id):
    change = Increment.model_validate(json_object() if request.get_data() else {})
    if not is_record_id(record_id):
        return error("record not found", 404)
    table = storage().records
    try:
        # Lost update fixed: DynamoDB adds in place, atomically; concurrent increments all count.
        updated = table.update_item(
            Key={"user_id": g.user_id, "record_id": record_id},
            UpdateExpression="SET version = version + :by",
            ConditionExpression="attribute_exists(record_id)",
            ExpressionAttributeValues={":by": change.by},
            ReturnValues="UPDATED_NEW",
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return error("record not found", 404)
    return jsonify(record_id=record_id, version=plain(updated["Attributes"]["version"]))


@bp.post("/records/transfer")
@login_required
def transfer():
    body = Transfer.model_validate(json_object())
    if body.source_record_id == body.target_record_id:
        return error("source and target must be different records", 400)
    names = storage().names
    client = storage().client
    fault_point("transfer.after_debit")
    try:
        # Partial write fixed: debit and credit commit together or not at all, and the debit only
        # applies while the balance covers it. Both keys use the caller's partition (BOLA fixed).
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": names.records,
                        "Key": {"user_id": g.user_id, "record_id": body.source_record_id},
                        "UpdateExpression": "SET balance = balance - :a",
                        "ConditionExpression": "attribute_exists(record_id) AND balance >= :a",
                        "ExpressionAttributeValues": {":a": body.amount},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Update": {
                        "TableName": names.records,
                        "Key": {"user_id": g.user_id, "record_id": body.target_record_id},
                        "UpdateExpression": "SET balance = balance + :a",
                        "ConditionExpression": "attribute_exists(record_id)",
                        "ExpressionAttributeValues": {":a": body.amount},
                    }
                },
            ]
        )
    except client.exceptions.TransactionCanceledException as exc:
        return transfer_refused(exc.response.get("CancellationReasons", []))
    table = storage().records
    source = table.get_item(Key={"user_id": g.user_id, "record_id": body.source_record_id}, ConsistentRead=True)
    target = table.get_item(Key={"user_id": g.user_id, "record_id": body.target_record_id}, ConsistentRead=True)
    return jsonify(
        source={"record_id": body.source_record_id, "balance": plain(source["Item"]["balance"])},
        target={"record_id": body.target_record_id, "balance": plain(target["Item"]["balance"])},
    )


def transfer_refused(reasons: list[dict]):
    source, target = (reasons + [{}, {}])[:2]
    if source.get("Code") == "ConditionalCheckFailed" and "Item" not in source:
        return error("source record not found", 404)
    if target.get("Code") == "ConditionalCheckFailed":
        return error("target record not found", 404)
    if source.get("Code") == "ConditionalCheckFailed":
        return error("insufficient balance", 409)
    if any(reason.get("Code") == "TransactionConflict" for reason in (source, target)):
        return error("a concurrent transaction touched these records; retry", 409)
    raise RuntimeError(f"transfer cancelled: {[reason.get('Code') for reason in reasons]}")


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
    # Error leak fixed: the client learns nothing about tables or queries; the log keeps the detail.
    log.exception("unhandled error in %s %s", request.method, request.path)
    return jsonify(error="internal error"), 500


deserializer = TypeDeserializer()


def image(record: dict, name: str) -> dict:
    return {key: deserializer.deserialize(value) for key, value in record["dynamodb"].get(name, {}).items()}


def handle_stream_batch(event, storage):
    """Maintain per-user aggregates from a batch of records-table stream records (Lambda event shape)."""
    client = storage.client
    for record in event["Records"]:
        old, new = image(record, "OldImage"), image(record, "NewImage")
        if record["eventName"] == "INSERT":
            user_id, count, delta = new["user_id"], 1, new.get("balance", 0)
        elif record["eventName"] == "MODIFY":
            user_id, count, delta = new["user_id"], 0, new.get("balance", 0) - old.get("balance", 0)
        else:
            user_id, count, delta = old["user_id"], -1, -old.get("balance", 0)
        try:
            # Idempotent consumer: the eventID marker and the aggregate change commit together, so a
            # redelivered record finds its marker and changes nothing.
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": storage.names.stream_events,
                            "Item": {"event_id": record["eventID"], "user_id": user_id},
                            "ConditionExpression": "attribute_not_exists(event_id)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": storage.names.aggregates,
                            "Key": {"user_id": user_id},
                            "UpdateExpression": "ADD record_count :count, balance_total :delta",
                            "ExpressionAttributeValues": {":count": count, ":delta": delta},
                        }
                    },
                ]
            )
        except client.exceptions.TransactionCanceledException as exc:
            marker = exc.response.get("CancellationReasons", [{}])[0]
            if marker.get("Code") != "ConditionalCheckFailed":
                raise
