"""How synchronised are plumbline's bursts, and do they find the lab's lost update? Measured, printed, never asserted.

    .venv/bin/python bench/burst.py [--reps 30] [--trials 50]

1. Spread. For N = 10, 20, 50 requests `GET /me` (bearer token of alice, header `X-Lab-Burst`) against the
   lab's vulnerable bank twin, served by `plumbline lab --json` in its own process (as a user runs it), three
   ways of sending a burst:

   - last-byte-sync: `plumbline.probe.burst.last_byte_burst` (fresh connections, final bytes released together);
   - asyncio.gather: one `httpx.AsyncClient`, `asyncio.gather` of N `client.get(...)` coroutines;
   - barrier threads: N threads, each with its own `httpx.Client`, released by a `threading.Barrier`.

   The httpx clients are warm (their keep-alive connections are opened by an untimed first burst), which favours
   the naive methods: they pay no connect in the timed bursts.

   Client send spread: for last-byte-sync, first to last final byte handed to the kernel (`send_spread_ms`).
   The naive methods cannot see when httpx writes the last byte of a request, so their figure is the spread of
   the moments each request was handed to the library: `time.perf_counter_ns()` taken immediately before
   `client.get(...)` in each coroutine or thread. That is a lower bound of their real wire spread.

   Server arrival spread: max - min of the `time.monotonic_ns()` the lab's `before_request` hook records for
   the burst id (`plumbline.lab.arrivals`), i.e. when Flask started handling each request.

2. The floor. The lab's Werkzeug server runs one thread per connection, and those threads parse requests
   under the server process's GIL: even requests that reach the kernel together are handed to Flask one after
   the other. To show what the wire itself delivers, the same three methods run against a
   minimal HTTP server in a separate process: one thread, a `selectors` loop, that timestamps each request with
   `time.monotonic_ns()` right after the `recv()` that completes its head, before parsing it. (gunicorn is not
   a dependency of the project, and its sync workers would also parse in Python before any hook could run.)

3. Detection, PL401-style lost update: per trial, alice opens an account with 1000, bursts 20 synchronised
   `POST /accounts/{id}/withdraw {"amount": 100}`, re-reads the account, and counts the trial as detected when
   final != 1000 - 100 x (number of 200 responses), final < 0 or any response is a 5xx. 50 trials on the
   vulnerable twin give the detection rate, 50 on the hardened twin the false-positive rate.

Exit status 0 unless something could not run; missed targets are printed, not failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from plumbline.lab.arrivals import HEADER
from plumbline.probe.burst import PreparedRequest, last_byte_burst

SIZES = (10, 20, 50)
METHODS = ("last-byte-sync", "asyncio.gather", "barrier threads")


# --------------------------------------------------------------------------------------------------- senders
@dataclass
class Burst:
    client_spread_ms: float
    statuses: list[int | None]


class Senders:
    """The three ways of sending N identical GET requests to one URL, each tagged with a burst id."""

    def __init__(self, url: str, headers: dict[str, str], n: int) -> None:
        self.url, self.headers, self.n = url, headers, n
        self.loop = asyncio.new_event_loop()
        self.async_client = httpx.AsyncClient(
            timeout=60, limits=httpx.Limits(max_connections=n, max_keepalive_connections=n))
        self.clients = [httpx.Client(timeout=60) for _ in range(n)]

    def close(self) -> None:
        self.loop.run_until_complete(self.async_client.aclose())
        self.loop.close()
        for client in self.clients:
            client.close()

    def send(self, method: str, burst_id: str) -> Burst:
        headers = {**self.headers, HEADER: burst_id}
        if method == "last-byte-sync":
            result = last_byte_burst([PreparedRequest("GET", self.url, headers)] * self.n, timeout=60)
            errors = [response.error for response in result.responses if response.error]
            if errors:
                print(f"    ! {len(errors)} errors, e.g. {errors[0]}", file=sys.stderr)
            return Burst(result.send_spread_ms, [response.status for response in result.responses])
        if method == "asyncio.gather":
            return self.loop.run_until_complete(self._gather(headers))
        return self._threads(headers)

    async def _gather(self, headers: dict[str, str]) -> Burst:
        handed: list[int] = []

        async def one() -> int:
            handed.append(time.perf_counter_ns())
            response = await self.async_client.get(self.url, headers=headers)
            return response.status_code

        statuses = await asyncio.gather(*(one() for _ in range(self.n)))
        return Burst((max(handed) - min(handed)) / 1e6, list(statuses))

    def _threads(self, headers: dict[str, str]) -> Burst:
        barrier = threading.Barrier(self.n)
        handed: list[int] = [0] * self.n
        statuses: list[int | None] = [None] * self.n

        def one(index: int) -> None:
            client = self.clients[index]
            barrier.wait()
            handed[index] = time.perf_counter_ns()
            statuses[index] = client.get(self.url, headers=headers).status_code

        threads = [threading.Thread(target=one, args=(index,)) for index in range(self.n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return Burst((max(handed) - min(handed)) / 1e6, statuses)


# --------------------------------------------------------------------------------------------------- floor server
FLOOR_SERVER = textwrap.dedent(r'''
    import json, selectors, socket, sys, time
    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    arrivals, buffers = {}, {}
    print(listener.getsockname()[1], flush=True)
    OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    while True:
        for key, _ in selector.select():
            if key.data is None:
                while True:
                    try:
                        conn, _ = listener.accept()
                    except BlockingIOError:
                        break
                    conn.setblocking(False)
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    buffers[conn] = b""
                    selector.register(conn, selectors.EVENT_READ, "conn")
                continue
            conn = key.fileobj
            try:
                data = conn.recv(65536)
            except (BlockingIOError, ConnectionError):
                data = None
            now = time.monotonic_ns()
            if not data:
                if data is None:
                    continue
                selector.unregister(conn); conn.close(); del buffers[conn]
                continue
            buffer = buffers[conn] + data
            while b"\r\n\r\n" in buffer:
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                burst = next((line.split(":", 1)[1].strip() for line in lines[1:]
                              if line.lower().startswith("x-lab-burst:")), None)
                if path.startswith("/_lab/arrivals/"):
                    body = json.dumps({"arrivals_ns": sorted(arrivals.pop(path.rsplit("/", 1)[1], []))}).encode()
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                    continue
                if burst:
                    arrivals.setdefault(burst, []).append(now)
                conn.sendall(OK)
            buffers[conn] = buffer
''')


class FloorServer:
    def __enter__(self) -> "FloorServer":
        self.process = subprocess.Popen([sys.executable, "-c", FLOOR_SERVER], stdout=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"
        return self

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(10)


# --------------------------------------------------------------------------------------------------- measurements
@dataclass
class Series:
    client: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    incomplete: int = 0  # bursts where the server saw fewer than N tagged requests or a status was not 200


def arrival_spread(base_url: str, burst_id: str, n: int) -> float | None:
    arrivals = httpx.get(f"{base_url}/_lab/arrivals/{burst_id}", timeout=30).json()["arrivals_ns"]
    if len(arrivals) != n:
        return None
    return (max(arrivals) - min(arrivals)) / 1e6


def measure(base_url: str, headers: dict[str, str], reps: int) -> dict[tuple[str, int], Series]:
    results: dict[tuple[str, int], Series] = {}
    for n in SIZES:
        senders = Senders(f"{base_url}/me", headers, n)
        try:
            for method in METHODS:  # untimed: opens the httpx clients' keep-alive connections
                senders.send(method, f"warmup-{uuid.uuid4().hex}")
            for rep in range(reps):
                for method in METHODS:  # interleaved, so that drift of the machine hits every method alike
                    burst_id = f"bench-{uuid.uuid4().hex}"
                    burst = senders.send(method, burst_id)
                    series = results.setdefault((method, n), Series())
                    spread = arrival_spread(base_url, burst_id, n)
                    series.client.append(burst.client_spread_ms)
                    if spread is None or any(status != 200 for status in burst.statuses):
                        series.incomplete += 1
                    if spread is not None:
                        series.server.append(spread)
        finally:
            senders.close()
    return results


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass
class Detection:
    trials: int = 0
    detected: int = 0
    inconclusive: int = 0  # a request of the burst failed without a status: nothing can be concluded
    examples: list[str] = field(default_factory=list)


def lost_update_trials(twin, trials: int) -> Detection:
    outcome = Detection()
    auth = twin.auth("alice")
    with httpx.Client(base_url=twin.url, headers=auth, timeout=60) as client:
        for _ in range(trials):
            created = client.post("/accounts", json={"balance": 1000})
            created.raise_for_status()
            account = created.json()["id"]
            request = PreparedRequest(
                "POST", f"{twin.url}/accounts/{account}/withdraw",
                {**auth, "Content-Type": "application/json"}, json.dumps({"amount": 100}).encode())
            result = last_byte_burst([request] * 20, timeout=60)
            final = client.get(f"/accounts/{account}").json()["balance"]
            statuses = [response.status for response in result.responses]
            outcome.trials += 1
            if any(status is None for status in statuses):
                outcome.inconclusive += 1
                continue
            ok = statuses.count(200)
            five = sum(status >= 500 for status in statuses)
            if final != 1000 - 100 * ok or final < 0 or five:
                outcome.detected += 1
                if len(outcome.examples) < 3:
                    outcome.examples.append(f"{ok} x 200, {five} x 5xx, final {final} (expected {1000 - 100 * ok})")
    return outcome


# --------------------------------------------------------------------------------------------------- report
def table(title: str, results: dict[tuple[str, int], Series], reps: int) -> None:
    print(f"\n{title} ({reps} bursts each; ms; median / p95)")
    print(f"  {'method':<16} {'N':>3}   {'client send spread':>20}   {'server arrival spread':>22}"
          f"   {'gap/request':>11}   incomplete")
    for n in SIZES:
        for method in METHODS:
            series = results[(method, n)]
            client = f"{median(series.client):8.3f} / {p95(series.client):8.3f}"
            server = f"{median(series.server):8.3f} / {p95(series.server):8.3f}"
            gap = median(series.server) / (n - 1)  # the median arrival spread shared over the N - 1 gaps
            print(f"  {method:<16} {n:>3}   {client:>20}   {server:>22}   {gap:>11.3f}   {series.incomplete}")


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


@dataclass
class Twin:
    """A twin served by `plumbline lab --json`: its URL and bearer tokens."""

    url: str
    identities: dict[str, str]

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.identities[name]}"}


class LabProcess:
    """`plumbline lab --json` in its own process, stopped with SIGTERM (it cleans up its servers)."""

    def __enter__(self) -> dict:
        self.process = subprocess.Popen([sys.executable, "-m", "plumbline", "lab", "--json"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"plumbline lab exited with {self.process.wait()} before it was ready")
        return json.loads(line)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=30, help="bursts per method and size (default 30)")
    parser.add_argument("--trials", type=int, default=50, help="lost-update trials per twin (default 50)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(f"bench/burst.py: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, loopback; "
          f"lab and floor server each in their own process")

    with LabProcess() as lab:
        vulnerable, hardened = (Twin(**lab["bank"][twin]) for twin in ("vulnerable", "hardened"))
        print(f"lab ready after {time.perf_counter() - started:.1f} s")
        werkzeug = measure(vulnerable.url, vulnerable.auth("alice"), args.reps)
        with FloorServer() as floor_server:
            floor = measure(floor_server.url, vulnerable.auth("alice"), args.reps)
        caught = lost_update_trials(vulnerable, args.trials)
        false_alarms = lost_update_trials(hardened, args.trials)

    table("GET /me on the lab's Werkzeug server (threaded, its own process)", werkzeug, args.reps)
    table("Floor: same bursts against a one-thread selectors server in its own process", floor, args.reps)

    print("\nLost update on POST /accounts/{id}/withdraw, 20 synchronised withdrawals of 100 from 1000:")
    for name, outcome in (("vulnerable", caught), ("hardened", false_alarms)):
        conclusive = outcome.trials - outcome.inconclusive
        print(f"  {name:<10} detected in {outcome.detected} of {conclusive} trials "
              f"({100 * outcome.detected / max(conclusive, 1):.1f} %), inconclusive {outcome.inconclusive}"
              + (f"; e.g. {outcome.examples[0]}" if outcome.examples else ""))

    lbs20 = werkzeug[("last-byte-sync", 20)]
    send_ok = median(lbs20.client) <= 0.5
    tighter = all(
        median(werkzeug[("last-byte-sync", n)].server) * 2 <= min(median(werkzeug[(m, n)].server) for m in METHODS[1:])
        for n in SIZES)
    ratios = ", ".join(
        f"N={n}: {min(median(werkzeug[(m, n)].server) for m in METHODS[1:]) / median(werkzeug[('last-byte-sync', n)].server):.1f}x"
        for n in SIZES)
    conclusive = caught.trials - caught.inconclusive
    rate = caught.detected / conclusive if conclusive else 0.0
    print("\nTargets")
    print(f"  send spread median <= 0.5 ms, N=20 (Werkzeug lab)    {median(lbs20.client):.3f} ms   {verdict(send_ok)}")
    print(f"  arrival spread clearly tighter than both naive (>=2x) {ratios}   {verdict(tighter)}")
    print(f"  detection >= 99 %                                      {100 * rate:.1f} %   {verdict(rate >= 0.99)}")
    print(f"  false positives 0                                      {false_alarms.detected}   "
          f"{verdict(false_alarms.detected == 0)}")
    print(f"\n{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
