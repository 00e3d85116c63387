"""Wallets on boto3: spending lowers a balance in place; only a condition keeps it from going below zero."""

import boto3
from flask import Flask, jsonify, request
from flask_login import current_user, login_required

app = Flask(__name__)
wallets = boto3.resource("dynamodb").Table("wallets")


@app.post("/spend")
@login_required
def spend():
    amount = int(request.json["amount"])
    wallets.update_item(  # expect: PL303
        Key={"user_id": current_user.id},
        UpdateExpression="SET balance = balance - :a",
        ExpressionAttributeValues={":a": amount},
    )
    return "", 204


@app.post("/spend-safely")
@login_required
def spend_safely():
    amount = int(request.json["amount"])
    wallets.update_item(  # ok: PL303
        Key={"user_id": current_user.id},
        UpdateExpression="SET balance = balance - :a",
        ConditionExpression="balance >= :a",
        ExpressionAttributeValues={":a": amount},
    )
    return "", 204


@app.post("/top-up")
@login_required
def top_up():
    amount = int(request.json["amount"])
    wallets.update_item(  # ok: PL303
        Key={"user_id": current_user.id},
        UpdateExpression="SET balance = balance + :a",
        ExpressionAttributeValues={":a": amount},
    )
    return "", 204


@app.post("/rest")
@login_required
def rest():
    wallets.update_item(  # ok: PL303
        Key={"user_id": current_user.id},
        UpdateExpression="SET streak = streak - :one",
        ExpressionAttributeValues={":one": 1},
    )
    return jsonify(ok=True)


@app.post("/redeem")
@login_required
def redeem():
    wallets.update_item(  # expect: PL303
        Key={"user_id": current_user.id},
        UpdateExpression="SET #p = #p - :cost",
        ConditionExpression="attribute_exists(user_id)",
        ExpressionAttributeNames={"#p": "points"},
        ExpressionAttributeValues={":cost": int(request.json["cost"])},
    )
    return "", 204
