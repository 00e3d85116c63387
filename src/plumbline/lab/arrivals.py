"""Server-side arrival times of synchronised bursts: lab instrumentation, not part of any twin's API.

A request that carries ``X-Lab-Burst: <id>`` has ``time.monotonic_ns()`` recorded under that id when
Flask starts handling it (the first ``before_request`` hook, before authentication and the view).
``GET /_lab/arrivals/<id>`` answers ``{"burst": id, "arrivals_ns": [...]}``, sorted, so a client can
measure how close together a burst reached the handlers (max - min). An unknown id answers an empty list.

Memory is bounded: the last 1,000 burst ids are kept (oldest dropped first), each with at most 10,000
arrivals. The route is left out of the OpenAPI documents on purpose.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from flask import Flask, jsonify, request

HEADER = "X-Lab-Burst"
EXTENSION = "plumbline.lab.arrivals"
ENDPOINT = "_lab_arrivals"
MAX_BURSTS = 1000
MAX_ARRIVALS = 10_000
MAX_ID_LENGTH = 200


class ArrivalLog:
    """Arrival times per burst id, thread-safe, keeping the `max_bursts` most recently started ids."""

    def __init__(self, max_bursts: int = MAX_BURSTS, max_arrivals: int = MAX_ARRIVALS) -> None:
        self._lock = threading.Lock()
        self._bursts: OrderedDict[str, list[int]] = OrderedDict()
        self.max_bursts = max_bursts
        self.max_arrivals = max_arrivals

    def record(self, burst_id: str, at_ns: int) -> None:
        with self._lock:
            arrivals = self._bursts.get(burst_id)
            if arrivals is None:
                arrivals = self._bursts[burst_id] = []
                while len(self._bursts) > self.max_bursts:
                    self._bursts.popitem(last=False)
            if len(arrivals) < self.max_arrivals:
                arrivals.append(at_ns)

    def get(self, burst_id: str) -> list[int]:
        with self._lock:
            return sorted(self._bursts.get(burst_id, ()))

    def __len__(self) -> int:
        with self._lock:
            return len(self._bursts)


def install(app: Flask) -> ArrivalLog:
    """Record arrivals of `X-Lab-Burst` requests on `app` and serve them at `GET /_lab/arrivals/<burst_id>`."""
    log = ArrivalLog()
    app.extensions[EXTENSION] = log

    def record_arrival() -> None:
        at_ns = time.monotonic_ns()
        burst_id = request.headers.get(HEADER)
        if burst_id and len(burst_id) <= MAX_ID_LENGTH and request.endpoint != ENDPOINT:
            log.record(burst_id, at_ns)

    def arrivals(burst_id: str):
        return jsonify(burst=burst_id, arrivals_ns=log.get(burst_id))

    # First among the app's before_request hooks, so the time is taken before any other work of the request.
    app.before_request_funcs.setdefault(None, []).insert(0, record_arrival)
    app.add_url_rule("/_lab/arrivals/<burst_id>", endpoint=ENDPOINT, view_func=arrivals, methods=["GET"])
    return log
