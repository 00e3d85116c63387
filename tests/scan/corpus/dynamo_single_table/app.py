"""A chat on one table (GRP#<user> rows list a user's groups, MSG#<group> rows hold messages), declared in a SAM
template that names only key attributes, and contact cards guarded by a token checked in a helper."""

import os
from datetime import datetime, timezone

import boto3
from flask import Flask, abort, jsonify, request
from flask_jwt_extended import get_jwt_identity, jwt_required

from auth import validate_token

app = Flask(__name__)
client = boto3.client("dynamodb")
TABLE = os.getenv("CHAT_TABLE")


@app.get("/groups/<group_id>/messages")
@jwt_required()
def messages(group_id):
    found = client.query(  # expect: PL301
        TableName=TABLE, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"MSG#{group_id}"}})
    return jsonify(found["Items"])


@app.get("/me/groups")
@jwt_required()
def my_groups():
    found = client.query(  # ok: PL301
        TableName=TABLE, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"GRP#{get_jwt_identity()}"}})
    return jsonify(found["Items"])


@app.post("/cards")
def save_card():
    body = request.get_json()
    claims = validate_token(request.headers.get("Authorization", "").removeprefix("Bearer "))
    if not claims or claims["email"] != body["email"]:
        abort(403)
    client.put_item(TableName="contact-cards", Item={  # ok: PL301, PL303
        "email": {"S": body["email"]}, "phone": {"S": body["phone"]}})
    return "", 204


@app.post("/cards/any")
def save_any_card():
    body = request.get_json()
    if not validate_token(request.headers.get("Authorization", "").removeprefix("Bearer ")):
        abort(401)
    client.put_item(TableName="contact-cards", Item={  # expect: PL301, PL303
        "email": {"S": body["email"]}, "phone": {"S": body["phone"]},
        "saved_at": {"S": datetime.now(timezone.utc).isoformat()}})
    return "", 204
