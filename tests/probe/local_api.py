"""A threaded local HTTP API for the probe's behaviour tests: a handler function and an OpenAPI document."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from plumbline.findings import FindingsDocument
from plumbline.probe.engine import Probe
from plumbline.probe.http import Http, Identity
from plumbline.probe.spec import parse


class Api:
    """A threaded local HTTP API: `handle(method, path, body) -> (status, body)`; serves `spec` at /openapi.json."""

    def __init__(self, spec: dict, handle, *, with_headers: bool = False) -> None:
        """`with_headers`: `handle` also takes the request's headers (to know the caller)."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.path == "/openapi.json":
                    status, answer = 200, spec
                else:
                    arguments = (self.command, self.path, json.loads(raw) if raw else None)
                    status, answer = handle(*arguments, self.headers) if with_headers else handle(*arguments)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        owner.spec = spec

    def probe(self, rules: set[str], *, active: bool = True, identities: tuple[str, ...] = ("alice",)
              ) -> FindingsDocument:
        """A probe run as `identities`, each sending `Authorization: Bearer <name>-token-1234`."""
        http = Http(self.url, {name: Identity(name, "Authorization", f"Bearer {name}-token-1234")
                               for name in identities})
        try:
            return Probe(parse(self.spec), http, active=active, selected=rules).run()
        finally:
            http.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def json_content(schema: dict) -> dict:
    """A request body or response with `schema` as its JSON content."""
    return {"content": {"application/json": {"schema": schema}}}
