"""The `records` lab app: per-user versioned records on DynamoDB, with stream-maintained aggregates.

Planted in `vulnerable.py`, fixed in `hardened.py`: BOLA/IDOR through a client-chosen partition
key, mass assignment, a lost update (get_item + put_item), a partial write (two update_item
calls), a non-idempotent DynamoDB Streams consumer, missing input validation and an error leak.
"""

from __future__ import annotations

import functools
import logging

from plumbline.lab.backends import DynamoConfig
from plumbline.lab.records import hardened, vulnerable
from plumbline.lab.records.common import Storage, create_app
from plumbline.lab.records.streams import StreamPoller
from plumbline.lab.records.tables import create_tables, delete_tables
from plumbline.lab.twin import TwinApp

log = logging.getLogger(__name__)

MODULES = {"vulnerable": vulnerable, "hardened": hardened}


def build(twin: str, dynamo: DynamoConfig) -> TwinApp:
    """Create this twin's tables (fresh: the prefix is unique per lab run) and its app and stream consumer."""
    module = MODULES[twin]
    names = create_tables(dynamo, twin)
    store = Storage.connect(dynamo, names)
    app = create_app(twin, store)
    app.register_blueprint(module.bp)
    stream_handler = functools.partial(module.handle_stream_batch, storage=store)
    poller = StreamPoller(dynamo, names.records, stream_handler)

    def close() -> None:
        try:
            delete_tables(dynamo, names)
        except Exception as exc:
            log.warning("could not delete the %s records tables: %s", twin, exc)

    return TwinApp(
        app=app,
        close=close,
        background=[poller.run],
        internals={
            "dynamo": dynamo,
            "tables": names,
            "storage": store,
            "poller": poller,
            "stream_handler": stream_handler,
        },
    )
