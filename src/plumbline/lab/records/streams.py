"""A DynamoDB Streams poller: what a Lambda event source mapping does, in a thread beside the app.

It reads every shard of the records table's stream in order (parents before children), hands
each batch to the twin's handler as `{"Records": [...]}` and checkpoints the last sequence
number only after the handler returned. A failed batch is delivered again on the next poll
(at-least-once, as Lambda retries), and skipped after `max_attempts` so one bad record cannot
stall the shard forever. `read_all()` returns the raw stream from TRIM_HORIZON, for redelivery.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable

from plumbline.lab.backends import DynamoConfig

log = logging.getLogger(__name__)

Handler = Callable[[dict], None]


@dataclass
class ShardPosition:
    sequence_number: str | None = None  # last record handled (the checkpoint)
    closed: bool = False
    failed_attempts: int = 0


class StreamPoller:
    def __init__(
        self,
        dynamo: DynamoConfig,
        table_name: str,
        handler: Handler,
        *,
        interval: float = 0.2,
        batch_size: int = 100,
        max_attempts: int = 3,
    ) -> None:
        self.table_name = table_name
        self.handler = handler
        self.interval = interval
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self._dynamodb = dynamo.client()
        self._streams = dynamo.client("dynamodbstreams")
        self._stream_arn: str | None = None
        self._shards: dict[str, ShardPosition] = {}
        self._lock = threading.Lock()

    @property
    def stream_arn(self) -> str:
        if self._stream_arn is None:
            table = self._dynamodb.describe_table(TableName=self.table_name)["Table"]
            self._stream_arn = table["LatestStreamArn"]
        return self._stream_arn

    def run(self, stop_event: threading.Event) -> None:
        """Poll until `stop_event` is set; errors are logged and the next poll tries again."""
        while not stop_event.is_set():
            try:
                self.drain(stop_event)
            except Exception:
                log.exception("polling the stream of %s failed; retrying", self.table_name)
            stop_event.wait(self.interval)

    def drain(self, stop_event: threading.Event | None = None) -> int:
        """Deliver everything the stream holds now; return how many records were handled."""
        handled = 0
        with self._lock:
            while stop_event is None or not stop_event.is_set():
                count = self._poll_once()
                handled += count
                if count == 0:
                    return handled
        return handled

    def read_all(self) -> list[dict]:
        """Every record the stream holds, from TRIM_HORIZON, without touching the checkpoints."""
        records: list[dict] = []
        for shard in self._describe_shards():
            after = None
            while True:
                page = self._read_page(shard["ShardId"], after, limit=1000)
                if not page["Records"]:
                    break
                records.extend(page["Records"])
                after = page["Records"][-1]["dynamodb"]["SequenceNumber"]
        return records

    def _read_page(self, shard_id: str, after: str | None, *, limit: int) -> dict:
        """The records after sequence number `after` (from TRIM_HORIZON when None).

        Every page starts from a fresh iterator anchored on the checkpoint, and is read twice:
        only the records both reads agree on (by eventID) are returned. This guards against
        moto, not DynamoDB: moto cancels a transaction by putting back a copy of the table, and an
        iterator made before that keeps reading the discarded stream, which holds the cancelled
        writes. A record both reads agree on was in the stream as it stands. On DynamoDB the second
        read is redundant; anchoring on the checkpoint also never meets the 15-minute iterator expiry.
        """
        first = self._read_once(shard_id, after, limit)
        if not first["Records"]:
            return first
        second = self._read_once(shard_id, after, limit)
        agreed = []
        for mine, theirs in zip(first["Records"], second["Records"]):
            if mine["eventID"] != theirs["eventID"]:
                break
            agreed.append(theirs)
        return {**second, "Records": agreed}

    def _read_once(self, shard_id: str, after: str | None, limit: int) -> dict:
        if after is None:
            start = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            start = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
        iterator = self._streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id, **start)
        return self._streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=limit)

    def _describe_shards(self) -> list[dict]:
        shards: list[dict] = []
        request = {"StreamArn": self.stream_arn}
        while True:
            description = self._streams.describe_stream(**request)["StreamDescription"]
            shards.extend(description["Shards"])
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def _poll_once(self) -> int:
        handled = 0
        shards = self._describe_shards()
        known = {shard["ShardId"] for shard in shards}
        for shard in shards:
            position = self._shards.setdefault(shard["ShardId"], ShardPosition())
            parent = shard.get("ParentShardId")
            if position.closed or (parent in known and not self._shards.get(parent, ShardPosition()).closed):
                continue
            handled += self._poll_shard(shard["ShardId"], position)
        return handled

    def _poll_shard(self, shard_id: str, position: ShardPosition) -> int:
        try:
            page = self._read_page(shard_id, position.sequence_number, limit=self.batch_size)
        except self._streams.exceptions.TrimmedDataAccessException:
            log.warning("records after %s in %s were trimmed; resuming at TRIM_HORIZON", position.sequence_number, shard_id)
            position.sequence_number = None
            return 0
        records = page["Records"]
        if not records:
            position.closed = "NextShardIterator" not in page
            return 0
        try:
            self.handler({"Records": records})
        except Exception:
            position.failed_attempts += 1
            if position.failed_attempts < self.max_attempts:
                log.exception("stream handler failed on %d records of %s; delivering again", len(records), shard_id)
                return 0
            log.exception("stream handler failed %d times; skipping %d records of %s",
                          position.failed_attempts, len(records), shard_id)
        position.failed_attempts = 0
        position.sequence_number = records[-1]["dynamodb"]["SequenceNumber"]
        return len(records)
