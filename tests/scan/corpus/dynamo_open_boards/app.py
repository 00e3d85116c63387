"""A kanban service with no login at all: the caller names the user in every request. Boards belong to users
(keyed by username, the key of the users table); repositories are a shared catalogue keyed by their GitHub
owner, who is nobody in this app."""

import boto3
from flask import Flask, jsonify, request

app = Flask(__name__)
dynamodb = boto3.resource("dynamodb")
users = dynamodb.Table("users")
boards = dynamodb.Table("boards")
repos = dynamodb.Table("repositories")


@app.get("/profiles/<username>")
def profile(username):
    found = users.get_item(Key={"username": username})  # ok: PL301
    return jsonify(found.get("Item", {}))


@app.post("/boards/rename")
def rename_board():
    body = request.get_json()
    boards.update_item(Key={"username": body["username"], "board_id": body["board_id"]},  # expect: PL301
                       UpdateExpression="SET title = :t", ConditionExpression="attribute_exists(board_id)",
                       ExpressionAttributeValues={":t": body["title"]})
    return "", 204


@app.post("/repositories/retag")
def retag_repository():
    body = request.get_json()
    repos.update_item(Key={"owner_name": body["owner"], "repo_name": body["name"]},  # ok: PL301
                      UpdateExpression="SET tags = :t", ConditionExpression="attribute_exists(repo_name)",
                      ExpressionAttributeValues={":t": body["tags"]})
    return "", 204


@app.post("/profiles/update")
def update_profile():
    body = request.get_json()
    changes = {}
    for name in ("bio", "website", "location"):
        if name in body:
            changes[name] = {"Value": body[name], "Action": "PUT"}
    users.update_item(Key={"username": body["username"]}, AttributeUpdates=changes)  # expect: PL301, PL303
    return "", 204


@app.post("/profiles/touch")
def touch_profile():
    body = request.get_json()
    changes = {}
    for name in ("bio", "website"):
        changes[name] = {"Value": body.get(name, ""), "Action": "PUT"}
    users.update_item(Key={"username": body["username"]}, AttributeUpdates=changes,  # expect: PL301  # ok: PL303
                      Expected={"username": {"Exists": True}})
    return "", 204
