"""A caller-scoped wallet singleton on DynamoDB: `GET /wallet`, `POST /wallet/spend`, `POST /wallet/topup`.

No id anywhere: each caller has one wallet, opened on first use with a welcome credit of 100. The state an
action changes is read back with `GET /wallet`. Identities: static bearer tokens.

Vulnerable twin: spend and top-up read the item (GetItem), compute the new balance and write the whole item
back (PutItem), so concurrent calls overwrite each other (lost updates) and a burst of spends passes the funds
check together (overspend). Hardened twin: one UpdateItem each, `ADD balance :delta`, the spend conditional on
`balance >= :amount`.
"""

from __future__ import annotations

from flask import abort, g, jsonify

from zoo import RACE, Backends, Built, Planted
from zoo.clients import Clients, succeeded, together
from zoo.storage import DynamoTables
from zoo.web import (answer, bearer_identities, create_app, document, errors, json_body, login_required, me,
                     operation, static_tokens)

WELCOME_CREDIT = 100

PLANTED = [
    Planted(RACE, "POST", "/wallet/spend",
            "balance read (GetItem) and written back (PutItem): concurrent spends are lost and overspend"),
    Planted(("PL401",), "POST", "/wallet/topup",
            "balance read (GetItem) and written back (PutItem): concurrent top-ups are lost"),
]
SOUND = []
KNOWN_FALSE_ALARMS = []

WALLET = {"type": "object", "properties": {"owner": {"type": "string"}, "balance": {"type": "integer"}}}
SPEND = {"type": "object", "required": ["amount"], "additionalProperties": False,
         "properties": {"amount": {"type": "integer", "minimum": 1, "maximum": 100}}}
TOPUP = {"type": "object", "required": ["amount"], "additionalProperties": False,
         "properties": {"amount": {"type": "integer", "minimum": 1, "maximum": 1000}}}
SPEC = document("Wallet", {
    "/me": {"get": operation("getMe", {"200": answer("the caller", {"type": "object", "properties": {
        "id": {"type": "string"}, "username": {"type": "string"}}}), **errors(401)})},
    "/wallet": {"get": operation("getWallet", {"200": answer("the caller's wallet", WALLET), **errors(401)})},
    "/wallet/spend": {"post": operation("spend", {
        "200": answer("spent: the balance left", WALLET), **errors(401, 409, 422)}, body=SPEND)},
    "/wallet/topup": {"post": operation("topUp", {
        "200": answer("topped up: the new balance", WALLET), **errors(401, 422)}, body=TOPUP)},
})


def build(twin: str, backends: Backends) -> Built:
    tables = DynamoTables(backends.dynamodb_endpoint, f"wallet-{twin}", {"wallets": ("owner",)})
    client, table = tables.client, tables.names["wallets"]
    tokens = static_tokens()
    app = create_app(f"zoo.wallet.{twin}", SPEC, tokens)
    hardened = twin == "hardened"

    def wallet() -> dict:
        """The caller's wallet, opened with the welcome credit if it has none yet."""
        try:
            client.put_item(TableName=table, Item={"owner": {"S": g.user}, "balance": {"N": str(WELCOME_CREDIT)}},
                            ConditionExpression="attribute_not_exists(#o)", ExpressionAttributeNames={"#o": "owner"})
        except client.exceptions.ConditionalCheckFailedException:
            pass
        item = client.get_item(TableName=table, Key={"owner": {"S": g.user}}, ConsistentRead=True)["Item"]
        return {"owner": item["owner"]["S"], "balance": int(item["balance"]["N"])}

    def add(delta: int, floor: int | None) -> dict:
        """Hardened: the balance changed by `delta` in one conditional UpdateItem."""
        condition = {"ConditionExpression": "balance >= :floor",
                     "ExpressionAttributeValues": {":delta": {"N": str(delta)}, ":floor": {"N": str(floor)}}} \
            if floor is not None else {"ExpressionAttributeValues": {":delta": {"N": str(delta)}}}
        try:
            item = client.update_item(TableName=table, Key={"owner": {"S": g.user}},
                                      UpdateExpression="ADD balance :delta", ReturnValues="ALL_NEW",
                                      **condition)["Attributes"]
        except client.exceptions.ConditionalCheckFailedException:
            abort(409, "insufficient funds")
        return {"owner": item["owner"]["S"], "balance": int(item["balance"]["N"])}

    def put_balance(balance: int) -> dict:
        # Lost update: the whole item is written back from a balance read earlier; what a concurrent call wrote in
        # between is overwritten.
        client.put_item(TableName=table, Item={"owner": {"S": g.user}, "balance": {"N": str(balance)}})
        return {"owner": g.user, "balance": balance}

    app.add_url_rule("/me", "me", login_required(me))

    @app.get("/wallet")
    @login_required
    def get_wallet():
        return jsonify(wallet())

    @app.post("/wallet/spend")
    @login_required
    def spend():
        amount = json_body(SPEND)["amount"]
        current = wallet()
        if hardened:
            return jsonify(add(-amount, floor=amount))
        # Overspend: the funds check uses the balance read above; a burst of spends all pass it.
        if current["balance"] < amount:
            abort(409, "insufficient funds")
        return jsonify(put_balance(current["balance"] - amount))

    @app.post("/wallet/topup")
    @login_required
    def topup():
        amount = json_body(TOPUP)["amount"]
        current = wallet()
        if hardened:
            return jsonify(add(amount, floor=None))
        return jsonify(put_balance(current["balance"] + amount))

    return Built(app, *bearer_identities(tokens), close=tables.close)


# ---- proofs without the probe (zoo.clients) -------------------------------------------------------------


def overspend(clients: Clients) -> str | None:
    alice = clients["alice"]
    before = alice.get("/wallet").json()["balance"]
    spent = succeeded(together(lambda: alice.post("/wallet/spend", json={"amount": 10})))
    after = alice.get("/wallet").json()["balance"]
    if after == before - 10 * spent and after >= 0:
        return None
    return f"{spent} spends of 10 took the balance from {before} to {after}"


def lost_topups(clients: Clients) -> str | None:
    bob = clients["bob"]
    before = bob.get("/wallet").json()["balance"]
    added = succeeded(together(lambda: bob.post("/wallet/topup", json={"amount": 5})))
    after = bob.get("/wallet").json()["balance"]
    return None if after == before + 5 * added else f"{added} top-ups of 5 took the balance from {before} to {after}"


PROOFS = {("POST", "/wallet/spend"): overspend, ("POST", "/wallet/topup"): lost_topups}
