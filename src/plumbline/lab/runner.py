"""Start the four lab apps on 127.0.0.1 with their backends, and stop all of it again."""

from __future__ import annotations

import importlib
import logging
import threading
import uuid
from contextlib import ExitStack
from typing import Literal

import httpx
from werkzeug.serving import make_server

from plumbline.lab import APPS, TWINS
from plumbline.lab.backends import (
    BackendError,
    DynamoConfig,
    EmbeddedDynamoDB,
    EmbeddedPostgres,
    redact,
    sql_backend_of,
)
from plumbline.lab.twin import RunningTwin, TwinApp

LabBackend = Literal["embedded", "postgres", "cockroach"]
IDENTITIES = ("alice", "bob")


class Lab:
    """The lab as a context manager: `with Lab() as lab: lab.twins["bank"]["vulnerable"].url`."""

    def __init__(
        self,
        backend: LabBackend = "embedded",
        dsn: str | None = None,
        dynamodb_endpoint: str | None = None,
        apps: tuple[str, ...] = APPS,
    ) -> None:
        self.dsn = dsn
        self.dynamodb_endpoint = dynamodb_endpoint
        try:
            self.backend = _sql_backend(backend, dsn)
        except BackendError as exc:
            raise self._masked(exc) from None
        self.apps = apps
        self.twins: dict[str, dict[str, RunningTwin]] = {}
        self.sql_url: str | None = None  # the SQL server the bank twins' databases are on (--dsn, or the embedded one)
        self._stack = ExitStack()
        self._stop = threading.Event()

    def start(self) -> "Lab":
        """Start everything; on any failure or interruption, stop what was started and re-raise."""
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        try:
            self._start()
        except BackendError as exc:
            self.stop()
            raise self._masked(exc) from None  # the chained errors could show a password
        except BaseException:
            self.stop()
            raise
        return self

    def _masked(self, error: BackendError) -> BackendError:
        """`error` on one line, with the passwords of --dsn and --dynamodb-endpoint masked."""
        return BackendError(redact(" ".join(str(error).split()), self.dsn, self.dynamodb_endpoint))

    def _start(self) -> None:
        if "bank" in self.apps:
            server_url = self.sql_url = self.dsn or self._stack.enter_context(EmbeddedPostgres()).url
        if "records" in self.apps:
            endpoint = self.dynamodb_endpoint or self._stack.enter_context(EmbeddedDynamoDB()).endpoint_url
        run_id = uuid.uuid4().hex[:8]
        for app_name in self.apps:
            self.twins[app_name] = {}
            module = importlib.import_module(f"plumbline.lab.{app_name}")
            for twin in TWINS:
                storage = server_url if app_name == "bank" else DynamoConfig(endpoint, f"lab-{run_id}-{twin}-")
                try:
                    built = module.build(twin, storage)
                except BackendError:
                    raise
                except Exception as exc:
                    raise BackendError(f"the {app_name} {twin} twin did not start: {type(exc).__name__}: {exc}") from exc
                self._stack.callback(built.close)
                url = self._serve(built, f"{app_name}-{twin}")
                identities = {name: register(url, name, run_id) for name in IDENTITIES}
                self.twins[app_name][twin] = RunningTwin(app_name, twin, url, identities, built)

    def _serve(self, built: TwinApp, name: str) -> str:
        server = make_server("127.0.0.1", 0, built.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        thread.start()
        self._stack.callback(thread.join, 10)
        self._stack.callback(server.server_close)
        self._stack.callback(server.shutdown)
        for index, loop in enumerate(built.background):
            worker = threading.Thread(target=loop, args=(self._stop,), name=f"{name}-bg{index}", daemon=True)
            worker.start()
            self._stack.callback(worker.join, 10)
        host, port = server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._stop.set()
        self._stack.close()

    def __enter__(self) -> "Lab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def describe(self) -> dict:
        """The `plumbline lab --json` document: URLs and bearer tokens of each twin, and where a records twin's
        DynamoDB tables are (for `plumbline audit --dynamodb`)."""
        return {
            app: {twin: {"url": running.url, "identities": dict(running.identities), **_tables_of(running)}
                  for twin, running in twins.items()}
            for app, twins in self.twins.items()
        }


def _tables_of(running: RunningTwin) -> dict:
    dynamo = running.built.internals.get("dynamo")
    if dynamo is None:
        return {}
    return {"dynamodb": {"endpoint": dynamo.endpoint_url, "region": dynamo.region,
                         "tables": running.built.internals["tables"].all()}}


def _sql_backend(backend: LabBackend, dsn: str | None) -> LabBackend:
    """The backend asked for, checked against the URL: `--dsn` alone picks the backend from its scheme."""
    if backend == "embedded" and dsn:
        return sql_backend_of(dsn)
    if backend != "embedded" and not dsn:
        raise BackendError(f"--backend {backend} needs --dsn URL of a running server")
    if dsn and sql_backend_of(dsn) != backend:
        raise BackendError(f"--backend {backend} does not match the URL {dsn!r} (a {sql_backend_of(dsn)} URL)")
    return backend


def register(base_url: str, name: str, run_id: str) -> str:
    """Register a lab identity through the API, as any client would, and return its bearer token."""
    response = httpx.post(
        f"{base_url}/users",
        json={"email": f"{name}-{run_id}@lab.example", "name": name.title()},
        timeout=30,
    )
    if response.status_code != 201:
        raise BackendError(f"registering {name} at {base_url} failed: {response.status_code} {response.text[:200]}")
    return response.json()["token"]
