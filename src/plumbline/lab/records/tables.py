"""The DynamoDB tables of one records twin, created fresh for every build.

`records` carries a NEW_AND_OLD_IMAGES stream: the per-user `aggregates` are maintained by a
consumer of that stream, not by the request handlers. Only the hardened twin has
`stream_events`, the ledger of stream records it has already applied.

The hardened twin's tables also have deletion protection and point-in-time recovery on: DynamoDB
enforces no invariant on the items, so restoring them as they were before a bad write is the last
line of defence. An endpoint without point-in-time recovery (DynamoDB Local has none) leaves it off,
and `TableNames.recovery_refused` says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from plumbline.lab.backends import DynamoConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableNames:
    users: str
    emails: str  # one item per registered email: the database keeps emails unique
    tokens: str
    records: str
    aggregates: str
    stream_events: str | None = None
    protected: bool = False  # deletion protection on every table (the hardened twin)
    recovery_refused: str | None = None  # why the endpoint would not turn point-in-time recovery on

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
    """Create this twin's tables (PAY_PER_REQUEST) and wait until every one is ACTIVE; the hardened twin's with
    deletion protection and point-in-time recovery."""
    names = TableNames(
        users=dynamo.table_name("users"),
        emails=dynamo.table_name("emails"),
        tokens=dynamo.table_name("tokens"),
        records=dynamo.table_name("records"),
        aggregates=dynamo.table_name("aggregates"),
        stream_events=dynamo.table_name("stream_events") if twin == "hardened" else None,
        protected=twin == "hardened",
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
        client.create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                            DeletionProtectionEnabled=names.protected, **definition)
    waiter = client.get_waiter("table_exists")
    for table_name in definitions:
        waiter.wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    return _with_recovery(client, names) if names.protected else names


def _with_recovery(client, names: TableNames) -> TableNames:
    """Point-in-time recovery on for every table; where the endpoint refuses it, the names say why."""
    from botocore.exceptions import ClientError

    for table_name in names.all():
        try:
            client.update_continuous_backups(
                TableName=table_name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        except ClientError as exc:
            reason = f"{exc.response['Error'].get('Code', '')}: {exc.response['Error'].get('Message', '')}"
            log.warning("point-in-time recovery stays off on the hardened records tables: %s", reason)
            return replace(names, recovery_refused=reason)
    return names


def delete_tables(dynamo: DynamoConfig, names: TableNames) -> None:
    client = dynamo.client()
    for table_name in names.all():
        try:
            if names.protected:
                client.update_table(TableName=table_name, DeletionProtectionEnabled=False)
            client.delete_table(TableName=table_name)
        except client.exceptions.ResourceNotFoundException:
            pass
