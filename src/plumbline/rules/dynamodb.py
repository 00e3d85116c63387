"""PL3xx: how handlers and stream consumers use DynamoDB — keys, items, conditions, transactions, replays.

DynamoDB enforces no ownership, no schema and no isolation beyond one item: each rule names one of those jobs
the application must do itself. Every fix is given for boto3 and for PynamoDB.
"""

from plumbline.rules import Rule, register

register(
    Rule(
        id="PL301",
        name="client-controlled-key",
        engine="scan",
        severity="high",
        summary="DynamoDB item read or written by a key the client chose, with no tie to the caller",
        cwe=(639, 284),
        owasp="API1:2023",
        what="Finds `get_item`, `query`, `update_item`, `delete_item`, `put_item` (boto3 client or resource), "
        "`Model.get`/`query`/`update`/`delete`/`save` (PynamoDB) and boto 2 `get_item`/`put_item` whose partition "
        "key (or whole key) comes from the request — path, body, query string, resolver arguments — when nothing "
        "ties it to the authenticated caller: the key is not built from the caller's identity, the condition does "
        "not compare an owner attribute with the caller, and the returned item's owner is not compared with the "
        "caller before it is used. In an app without authentication, writes to items keyed by a user name or id "
        "the client names are reported too.",
        why="DynamoDB has no notion of ownership: whoever can call the route can read, overwrite or delete any "
        "item whose key they know or guess (BOLA/IDOR). A client-chosen sort key under the caller's own partition "
        "key is the safe pattern; so is an explicit owner comparison that refuses the request.",
        example='''
@bp.get("/notes/<note_id>")
@login_required
def show_note(note_id):
    found = notes.get_item(Key={"note_id": note_id})     # any caller reads any note
    return jsonify(found["Item"])
''',
        use_instead={
            "dynamodb": '''Put the caller in the key: the partition key is the authenticated identity, the client only
chooses the sort key inside it.

boto3:
```python
found = notes.get_item(Key={"user_id": current_user.id, "note_id": note_id})
if "Item" not in found:
    abort(404)
```
Or compare the owner before using the item (`if found["Item"]["owner_id"] != current_user.id: abort(404)`), or make
a write conditional on it: `ConditionExpression=Attr("owner_id").eq(current_user.id)`.

PynamoDB:
```python
note = Note.get(current_user.id, note_id)        # hash key = the caller, range key = the note
# or, for a write:
note.update(actions=[Note.text.set(text)], condition=Note.owner_id == current_user.id)
```''',
        },
        fix={
            "dynamodb": "Take the partition key from the authenticated identity (Key={'user_id': current_user.id, ...}), "
            "or compare the item's owner with the caller before using it or in the ConditionExpression.",
        },
    ),
    Rule(
        id="PL302",
        name="unvalidated-item",
        engine="scan",
        severity="high",
        summary="Request data stored as a DynamoDB item, or spread into one, without validation",
        cwe=(915, 20),
        owasp="API3:2023",
        what="Finds request data written as a whole item (`Item=request.get_json()`), spread into one "
        "(`{**data, ...}`, `item.update(data)`, PynamoDB `Model(**data)`), or choosing the attribute names of an "
        "update (`AttributeUpdates={form['field']: ...}`, an `UpdateExpression` built from client text) when it "
        "did not go through a validator first (pydantic `model_validate`, a marshmallow `Schema().load`, "
        "`jsonschema.validate`, attrs/cattrs, WTForms, a function that rejects bad input).",
        why="DynamoDB stores whatever attributes and types it is given. The client then chooses attributes the "
        "server should own — the partition key, an owner id, `version`, `role`, `is_admin`, a price — and any "
        "type: a string `version` breaks every later atomic increment, a 400 KB attribute fills the item.",
        example='''
@bp.post("/notes")
@login_required
def create_note():
    item = request.get_json()
    item["note_id"] = str(uuid.uuid4())
    notes.put_item(Item=item)        # the client picks user_id, is_admin, version...
''',
        use_instead={
            "dynamodb": '''Validate into a model that forbids unknown fields, then build the item field by field with
the keys and owner set by the server.

boto3:
```python
class NewNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: constr(max_length=10_000)

new = NewNote.model_validate(request.get_json())
notes.put_item(Item={"user_id": current_user.id, "note_id": str(uuid.uuid4()), "text": new.text},
               ConditionExpression="attribute_not_exists(note_id)")
```

PynamoDB:
```python
new = NewNote.model_validate(request.get_json())
Note(current_user.id, str(uuid.uuid4()), text=new.text).save(condition=Note.note_id.does_not_exist())
```''',
        },
        fix={
            "dynamodb": "Validate the body into a model that forbids unknown fields and build the item field by field; "
            "keys, owner ids and versions come from the server.",
        },
    ),
    Rule(
        id="PL303",
        name="unconditional-write",
        engine="scan",
        severity="high",
        summary="DynamoDB write that can silently overwrite: lost update, overwrite of an existing item, "
        "check-then-put",
        cwe=(362, 367),
        owasp="API6:2023",
        what="Finds writes with no `ConditionExpression` (PynamoDB `condition=`, no `VersionAttribute`; boto 2 "
        "`overwrite=True`) that can destroy data written by someone else: an item read, changed in Python and "
        "written back (`put_item`, `update_item SET x = :computed`, `save()`); a `put_item` of a new item whose key "
        "comes from the client or a name, without `attribute_not_exists`; a uniqueness check (`get_item` or a "
        "`query` on an index) followed by an unconditional put; an `update_item` on a client key without "
        "`attribute_exists`, which creates a phantom item. `ADD`, `SET x = x + :n` and PynamoDB `.add()` are "
        "atomic and safe; so are keys that cannot collide (uuid4). A subtraction from money or a quantity "
        "(`SET balance = balance - :a`) is atomic but needs a condition that bounds it (`balance >= :a`), or it "
        "goes below zero. A condition that cannot protect anything (an "
        "attribute *value* where the attribute name belongs, so it always holds) is still a finding.",
        why="DynamoDB has no isolation between a read and a later write: two requests read the same item and the "
        "second write erases the first (a lost update), two sign-ups for one e-mail both pass the check and the "
        "second replaces the first account, and an update of an id that does not exist quietly creates a "
        "half-built item that later reads fail on.",
        example='''
found = counters.get_item(Key={"user_id": current_user.id})
item = found["Item"]
item["visits"] = item["visits"] + 1
counters.put_item(Item=item)          # a concurrent visit between get and put is lost
''',
        use_instead={
            "dynamodb": '''Let DynamoDB do the change, or make the write conditional on what was read.

boto3:
```python
counters.update_item(Key={"user_id": current_user.id},
                     UpdateExpression="SET visits = visits + :one",
                     ExpressionAttributeValues={":one": 1})
# a new item: refuse to overwrite
users.put_item(Item=user, ConditionExpression="attribute_not_exists(email)")
# read-modify-write: optimistic lock on a version
table.put_item(Item={**item, "version": item["version"] + 1},
               ConditionExpression="version = :seen", ExpressionAttributeValues={":seen": item["version"]})
```
Catch `ConditionalCheckFailedException` and answer 409 (or re-read and retry).

PynamoDB:
```python
class Counter(Model):
    version = VersionAttribute()          # every save()/update() is conditional on the version read
counter.update(actions=[Counter.visits.add(1)])
User(email, password_hash=h).save(condition=User.email.does_not_exist())
```''',
        },
        fix={
            "dynamodb": "Use an atomic update (ADD, SET x = x + :n) or a ConditionExpression (attribute_not_exists for "
            "new items, a version or old-value check for read-modify-write); PynamoDB: VersionAttribute or condition=.",
        },
    ),
    Rule(
        id="PL304",
        name="non-atomic-multi-write",
        engine="scan",
        severity="high",
        summary="Dependent DynamoDB writes in one request outside a transaction",
        cwe=(362, 662),
        owasp="API6:2023",
        what="Finds two or more writes in one request or stream record (debit and credit, an item and its mirror, "
        "a history entry and its pointer, a delete then a re-put under a new key, an item and its uniqueness "
        "marker) that are not in one `transact_write_items` (PynamoDB `TransactWrite`). `batch_write_item`, "
        "`batch_writer()` and PynamoDB `batch_write()` are not atomic and count as separate writes.",
        why="Each DynamoDB write commits on its own. A crash, a timeout, a throttled or an unprocessed batch item "
        "between two dependent writes leaves half of the change: money debited and never credited, a one-sided "
        "relation, a history revision that never became current, a row deleted and never re-created.",
        example='''
table.update_item(Key=source_key, UpdateExpression="SET balance = balance - :a", ExpressionAttributeValues=values)
table.update_item(Key=target_key, UpdateExpression="SET balance = balance + :a", ExpressionAttributeValues=values)
''',
        use_instead={
            "dynamodb": '''Write them in one transaction (up to 100 items, all or nothing).

boto3:
```python
client.transact_write_items(TransactItems=[
    {"Update": {"TableName": "accounts", "Key": source_key,
                "UpdateExpression": "SET balance = balance - :a",
                "ConditionExpression": "balance >= :a", "ExpressionAttributeValues": values}},
    {"Update": {"TableName": "accounts", "Key": target_key,
                "UpdateExpression": "SET balance = balance + :a", "ExpressionAttributeValues": values}},
])
```

PynamoDB:
```python
with TransactWrite(connection=connection) as transaction:
    transaction.update(source, actions=[Account.balance.add(-amount)], condition=Account.balance >= amount)
    transaction.update(target, actions=[Account.balance.add(amount)])
```''',
        },
        fix={
            "dynamodb": "Put the dependent writes in one transact_write_items call (PynamoDB: TransactWrite); batch "
            "writes are not atomic.",
        },
    ),
    Rule(
        id="PL305",
        name="non-idempotent-consumer",
        engine="scan",
        severity="medium",
        summary="DynamoDB Streams / Kinesis / SQS consumer whose effect repeats when a record is delivered again",
        cwe=(837, 841),
        owasp=None,
        what="Finds consumers — a handler iterating `event['Records']`, a loop over `get_records` or "
        "`receive_message`, a web endpoint a queue daemon posts each message to — whose effect is not idempotent "
        "(`ADD` counters, `list_append`, increments, puts under a fresh key, sending e-mail or messages) and that "
        "do not deduplicate on the record's `eventID`, sequence number or message id (a conditional put of the id, "
        "an idempotency library such as AWS Lambda Powertools' `@idempotent`). A consumer whose writes are keyed "
        "by the record's own key and values is idempotent: a replay rewrites the same state.",
        why="Streams, Kinesis and SQS deliver at least once: a failed or timed-out batch is delivered again, whole. "
        "Each redelivery counts the records again, sends the e-mail again, appends the entry again.",
        example='''
def handler(event, context):
    for record in event["Records"]:
        new = record["dynamodb"]["NewImage"]
        totals.update_item(Key={"user_id": new["user_id"]["S"]},
                           UpdateExpression="ADD orders :one", ExpressionAttributeValues={":one": 1})
''',
        use_instead={
            "dynamodb": '''Record the event id in the same transaction as the effect, conditionally, so a replay
changes nothing.

boto3:
```python
try:
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": "applied_events", "Item": {"event_id": {"S": record["eventID"]}},
                 "ConditionExpression": "attribute_not_exists(event_id)"}},
        {"Update": {"TableName": "totals", "Key": {"user_id": {"S": user_id}},
                    "UpdateExpression": "ADD orders :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ])
except client.exceptions.TransactionCanceledException:
    pass   # already applied (check the cancellation reason is ConditionalCheckFailed)
```
For side effects outside DynamoDB (e-mail, SNS), use an idempotency layer keyed by the record id, e.g.
`@idempotent_function(data_keyword_argument="record", persistence_store=DynamoDBPersistenceLayer(...))`.

PynamoDB:
```python
with TransactWrite(connection=connection) as transaction:
    transaction.save(AppliedEvent(record["eventID"]), condition=AppliedEvent.event_id.does_not_exist())
    transaction.update(Totals(user_id), actions=[Totals.orders.add(1)])
```''',
        },
        fix={
            "dynamodb": "Deduplicate on the record's eventID/sequence number/message id: a conditional put of the id in "
            "the same transaction as the effect (PynamoDB TransactWrite), or an idempotency library.",
        },
    ),
)
