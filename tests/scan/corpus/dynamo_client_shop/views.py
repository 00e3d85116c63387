"""A shop on the low-level boto3 client: typed values, a repository module, a class-based view, PartiQL."""

import uuid

import boto3
from flask import Flask, jsonify, request
from flask.views import MethodView
from flask_jwt_extended import get_jwt_identity, jwt_required
from werkzeug.security import generate_password_hash

import repo

app = Flask(__name__)
client = boto3.client("dynamodb")


@app.post("/signup")
def sign_up():
    body = request.get_json()
    client.put_item(TableName="shop-users", Item={  # expect: PL303
        "email": {"S": body["email"]}, "password": {"S": generate_password_hash(body["password"])}})
    return "", 201


@app.post("/register")
def register():
    body = request.get_json()
    client.put_item(TableName="shop-users", Item={  # ok: PL303
        "email": {"S": body["email"]}, "password": {"S": generate_password_hash(body["password"])}},
        ConditionExpression="attribute_not_exists(email)")
    return "", 201


@app.post("/pages")
@jwt_required()
def publish_page():
    body = request.get_json()
    client.put_item(TableName="shop-pages", Item={  # expect: PL303
        "slug": {"S": body["slug"]}, "author": {"S": get_jwt_identity()}, "text": {"S": body["text"]}})
    return "", 201


class OrderView(MethodView):
    decorators = [jwt_required()]

    def get(self, order_id):
        mine = repo.order_of(get_jwt_identity(), order_id)  # ok: PL301
        anyone = repo.any_order(order_id)
        return jsonify(mine=mine.get("Item"), anyone=anyone.get("Item"))

    def patch(self, order_id):
        field = request.get_json()["field"]
        client.update_item(TableName="orders",  # expect: PL302
                           Key={"owner": {"S": get_jwt_identity()}, "order_id": {"S": order_id}},
                           UpdateExpression=f"SET {field} = :v", ConditionExpression="attribute_exists(order_id)",
                           ExpressionAttributeValues={":v": {"S": request.get_json()["value"]}})
        return "", 204

    def post(self, order_id):
        client.update_item(TableName="orders", Key={"order_id": {"S": order_id}},  # expect: PL301, PL303
                           UpdateExpression="SET status = :s", ExpressionAttributeValues={":s": {"S": "paid"}})
        return "", 204

    def put(self, order_id):
        client.update_item(TableName="orders",  # ok: PL301, PL302, PL303
                           Key={"owner": {"S": get_jwt_identity()}, "order_id": {"S": order_id}},
                           UpdateExpression="SET status = :s", ConditionExpression="attribute_exists(order_id)",
                           ExpressionAttributeValues={":s": {"S": "cancelled"}})
        return "", 204


app.add_url_rule("/orders/<order_id>", view_func=OrderView.as_view("order"))


@app.get("/search")
@jwt_required()
def search():
    name = request.args["name"]
    unsafe = client.execute_statement(Statement=f"SELECT * FROM products WHERE name = '{name}'")  # expect: PL101
    safe = client.execute_statement(Statement="SELECT * FROM products WHERE name = ?",  # ok: PL101
                                    Parameters=[{"S": name}])
    return jsonify(unsafe["Items"] + safe["Items"])


@app.post("/baskets")
@jwt_required()
def open_basket():
    basket_id = str(uuid.uuid4())
    client.batch_write_item(RequestItems={"baskets": [  # expect: PL304
        {"PutRequest": {"Item": {"basket_id": {"S": basket_id}, "owner": {"S": get_jwt_identity()}}}},
        {"PutRequest": {"Item": {"basket_id": {"S": f"{basket_id}#index"}, "owner": {"S": get_jwt_identity()}}}},
    ]})
    return "", 201


@app.post("/baskets/atomic")
@jwt_required()
def open_basket_atomically():
    basket_id = str(uuid.uuid4())
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": "baskets", "Item": {"basket_id": {"S": basket_id}, "owner": {"S": get_jwt_identity()}},
                 "ConditionExpression": "attribute_not_exists(basket_id)"}},
        {"Put": {"TableName": "baskets",  # ok: PL304
                 "Item": {"basket_id": {"S": f"{basket_id}#index"}, "owner": {"S": get_jwt_identity()}},
                 "ConditionExpression": "attribute_not_exists(basket_id)"}},
    ])
    return "", 201


@app.post("/preferences")
@jwt_required()
def save_preference():
    repo.set_preference(get_jwt_identity(), request.form["name"], request.form["value"])
    return "", 204


@app.post("/preferences/theme")
@jwt_required()
def save_theme():
    name = "dark_theme" if request.form["mode"] == "dark" else "light_theme"
    repo.set_preference(get_jwt_identity(), name, request.form["value"])
    return "", 204
