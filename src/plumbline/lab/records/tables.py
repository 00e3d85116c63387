"""The DynamoDB tables of one records twin, created fresh for every build.

`records` carries a NEW_AND_OLD_IMAGES stream: the per-user `aggregates` are maintained by a
consumer of that stream, not by the request handlers. Only the hardened twin has
`stream_events`, the ledger of stream records it has already applied.
"""

from __future__ import annotations

from dataclasses import dataclass

from plumbline.lab.backends import DynamoConfig


@dataclass(frozen=True)
class TableNames:
    users: str
    emails: str  # one item per registered email: the database keeps emails unique
    tokens: str
    records: str
    aggregates: str
    stream_events: str | None = None

    def all(self) -> list[str]:
        names = [self.users, self.emails, self.tokens, self.records, self.aggregates]
        return names + ([self.stream_events] if self.stream_events else [])


def _key_schema(hash_key: str, range_key: str | None = None) -> dict:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    attributes = [{"AttributeName": hash_key, "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        attributes.append({"AttributeName": range_key, "AttributeType": "S"})
    return {"KeySchema": schema, "AttributeDefinitions": attributes}


def create_tables(dynamo: DynamoConfig, twin: str) -> TableNames:
    """Create this twin's tables (PAY_PER_REQUEST) and wait until every one is ACTIVE."""
    names = TableNames(
        users=dynamo.table_name("users"),
        emails=dynamo.table_name("emails"),
        tokens=dynamo.table_name("tokens"),
        records=dynamo.table_name("records"),
        aggregates=dynamo.table_name("aggregates"),
        stream_events=dynamo.table_name("stream_events") if twin == "hardened" else None,
    )
    definitions = {
        names.users: _key_schema("user_id"),
        names.emails: _key_schema("email"),
        names.tokens: _key_schema("token_hash"),
        names.records: {
            **_key_schema("user_id", "record_id"),
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        },
        names.aggregates: _key_schema("user_id"),
    }
    if names.stream_events:
        definitions[names.stream_events] = _key_schema("event_id")

    client = dynamo.client()
    for table_name, definition in definitions.items():
        client.create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST", **definition)
    waiter = client.get_waiter("table_exists")
    for table_name in definitions:
        waiter.wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    return names


def delete_tables(dynamo: DynamoConfig, names: TableNames) -> None:
    client = dynamo.client()
    for table_name in names.all():
        try:
            client.delete_table(TableName=table_name)
        except client.exceptions.ResourceNotFoundException:
            pass
