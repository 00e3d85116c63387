"""Synchronised request bursts: last-byte synchronisation over HTTP/1.1.

A race is only provoked when the racing requests reach the server's handlers together. Sending them
one after the other from a client library spreads them over milliseconds (connection set-up, the
library's own work, the GIL), which is longer than most race windows. Last-byte synchronisation
removes nearly all of that from the critical moment:

1. open one TCP connection per request (``TCP_NODELAY``, TLS handshake done if https), in parallel;
2. send every request except its final byte, so the server has read (and, for a request with a body,
   often already dispatched) everything but one byte;
3. wait until every prefix is sent, then a few milliseconds more (``settle_ms``) for the server to read them;
4. release all final bytes in one tight loop: one ``send()`` of one byte per socket, each timed with
   ``time.perf_counter_ns`` (garbage collection paused meanwhile);
5. read every response concurrently on one thread with ``selectors`` (no reader thread competes for the
   GIL during the release), parsing with ``h11``.

``BurstResult.send_spread_ms`` is the client-side spread of the moments each final ``send()`` returned, i.e.
the first to the last final byte handed to the kernel. What the *server* sees also depends on how it
reads: a Werkzeug threaded server parses each connection on its own thread under the GIL.

HTTP/2 single-packet synchronisation (all requests completed by one TCP packet) is not implemented: it
needs an HTTP/2 server, and the lab's Werkzeug servers speak HTTP/1.1 only. ``technique`` is therefore
always ``"last-byte-sync"``.

Failures of a single request (refused connection, TLS error, reset, timeout, malformed response, a body
longer than ``max_body``) never raise: they are reported in that request's ``BurstResponse.error``. Only
invalid input raises ``ValueError``. One deadline bounds the whole burst, so a server that trickles its
answers cannot keep it alive.
"""

from __future__ import annotations

import gc
import selectors
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h11

__all__ = ["PreparedRequest", "BurstResponse", "BurstResult", "last_byte_burst", "TECHNIQUE_LAST_BYTE"]

TECHNIQUE_LAST_BYTE = "last-byte-sync"
_MAX_CONNECT_THREADS = 64
_RECV_SIZE = 65536


@dataclass(frozen=True)
class PreparedRequest:
    method: str
    url: str  # absolute http:// or https:// URL
    headers: dict[str, str]  # as given; Host, Content-Length and Connection: keep-alive are added when absent
    body: bytes = b""


@dataclass
class BurstResponse:
    status: int | None  # None when no response head was received (error is set)
    headers: dict[str, str]  # lower-cased names; a repeated header's values are joined with ", "
    body: bytes
    error: str | None = None  # e.g. "timed out after 30 s", "connection refused"
    elapsed_ms: float = 0.0  # from this request's final byte sent to its full response read
    sent_ms: float | None = None  # when its final byte was sent, after the burst's first one (None: never sent)


@dataclass
class BurstResult:
    responses: list[BurstResponse]  # same order as the requests
    send_spread_ms: float  # first to last final byte actually sent (client side)
    technique: str  # "last-byte-sync"


@dataclass
class _Target:
    host: str  # for connect() and TLS SNI
    port: int
    tls: bool
    head: bytes  # every byte of the serialised request except the last one
    last: bytes  # the final byte
    conn: h11.Connection


@dataclass
class _Slot:
    """One request's connection and the state of its response while the burst runs."""

    target: _Target
    sock: socket.socket | None = None
    error: str | None = None
    sent_ns: int | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: list[bytes] = field(default_factory=list)
    body_size: int = 0
    done_ns: int | None = None


def last_byte_burst(
    requests: list[PreparedRequest],
    *,
    timeout: float = 30.0,
    verify: bool = True,
    settle_ms: float = 5.0,
    max_body: int | None = None,
) -> BurstResult:
    """Send `requests` with last-byte synchronisation and return their responses in the same order.

    `timeout` bounds, in seconds, the whole burst: every connection's set-up (connect, TLS handshake,
    sending all but the last byte) and the wait for every response after the final bytes are released.
    `verify=False` accepts any TLS certificate (for test servers with self-signed certificates).
    `settle_ms` is the pause between the last prefix sent and the release of the final bytes.
    `max_body` caps each response body in bytes: a longer one is cut there and its error says so.
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    if settle_ms < 0:
        raise ValueError(f"settle_ms must not be negative, got {settle_ms!r}")
    if max_body is not None and max_body <= 0:
        raise ValueError(f"max_body must be positive, got {max_body!r}")
    deadline = time.monotonic() + timeout
    slots = [_Slot(_prepare(request)) for request in requests]
    if not slots:
        return BurstResult([], 0.0, TECHNIQUE_LAST_BYTE)
    context = _tls_context(verify) if any(slot.target.tls for slot in slots) else None

    # 1-2. Connect and send each prefix, in parallel: set-up time is then one round trip, not N.
    with ThreadPoolExecutor(max_workers=min(len(slots), _MAX_CONNECT_THREADS), thread_name_prefix="burst-connect") as pool:
        list(pool.map(lambda slot: _open(slot, context, timeout, deadline), slots))
    try:
        # 3. Let the server read the partial requests.
        if settle_ms:
            time.sleep(settle_ms / 1000)
        # 4. Release the final bytes.
        _release(slots)
        # 5. Read every response.
        _read_all(slots, timeout, deadline, max_body)
    finally:
        for slot in slots:
            if slot.sock is not None:
                _close(slot.sock)
                slot.sock = None
    sent = [slot.sent_ns for slot in slots if slot.sent_ns is not None]
    spread_ms = (max(sent) - min(sent)) / 1e6 if sent else 0.0
    first_ns = min(sent, default=0)
    return BurstResult([_response(slot, first_ns) for slot in slots], float(spread_ms), TECHNIQUE_LAST_BYTE)


def _prepare(request: PreparedRequest) -> _Target:
    """Validate one request and serialise it with h11; ValueError for anything a server could not be sent."""
    if not isinstance(request, PreparedRequest):
        raise ValueError(f"expected a PreparedRequest, got {type(request).__name__}")
    if not isinstance(request.body, (bytes, bytearray, memoryview)):
        raise ValueError(f"body must be bytes, got {type(request.body).__name__} ({request.url})")
    parts = urlsplit(request.url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http:// or https:// URL: {request.url!r}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a non-numeric or out-of-range port
        raise ValueError(f"invalid URL {request.url!r}: {exc}") from None
    if not host:
        raise ValueError(f"URL has no host: {request.url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"credentials in the URL are not supported, send an Authorization header: {request.url!r}")
    tls = scheme == "https"
    port = port or (443 if tls else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = bytes(request.body)

    given = {name.lower() for name in request.headers}
    headers = list(request.headers.items())
    if "host" not in given:
        headers.insert(0, ("Host", parts.netloc))  # netloc keeps IPv6 brackets and a non-default port
    if "content-length" not in given and "transfer-encoding" not in given and (
        body or request.method.upper() in ("POST", "PUT", "PATCH")
    ):
        headers.append(("Content-Length", str(len(body))))
    if "connection" not in given:
        headers.append(("Connection", "keep-alive"))

    conn = h11.Connection(h11.CLIENT)
    try:
        data = conn.send(h11.Request(method=request.method, target=target, headers=headers))
        if body:
            data += conn.send(h11.Data(data=body))
        data += conn.send(h11.EndOfMessage())
    except (h11.LocalProtocolError, TypeError, UnicodeError) as exc:
        raise ValueError(f"cannot send {request.method} {request.url}: {exc}") from None
    return _Target(host=host, port=port, tls=tls, head=data[:-1], last=data[-1:], conn=conn)


def _tls_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


def _open(slot: _Slot, context: ssl.SSLContext | None, timeout: float, deadline: float) -> None:
    """Connect, shake hands and send all but the final byte before the deadline; a failure is recorded,
    never raised."""
    target = slot.target
    sock = None
    phase = "connecting"
    try:
        sock = socket.create_connection((target.host, target.port), timeout=_left(deadline))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if target.tls:
            phase = "in the TLS handshake"
            sock.settimeout(_left(deadline))
            sock = context.wrap_socket(sock, server_hostname=target.host)
        phase = "sending the request"
        sock.settimeout(_left(deadline))
        sock.sendall(target.head)
    except Exception as exc:  # noqa: BLE001 - every failure of one request belongs in its error
        slot.error = _describe(exc, timeout, phase)
        if sock is not None:
            _close(sock)
        return
    slot.sock = sock


def _left(deadline: float) -> float:
    """Seconds left before `deadline`; socket.timeout once it has passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise socket.timeout("the burst's deadline passed")
    return remaining


def _release(slots: list[_Slot]) -> None:
    """Send every final byte in one tight loop and note when each send returned.

    Plain TCP sockets are written with libc `send()` through `ctypes.PyDLL`, which keeps the GIL for the
    duration of the call (`socket.send` releases it). Other Python threads, such as an in-process server's
    request threads woken by the first final bytes, then cannot run between two sends and stretch the
    release. MSG_DONTWAIT keeps that from ever blocking with the GIL held; a send that would block, a TLS
    socket and a platform without libc `send` use the socket's own `send` instead.
    """
    live = []
    for slot in slots:
        if slot.sock is None:
            continue
        raw = _RAW_SEND is not None and not isinstance(slot.sock, ssl.SSLSocket)
        live.append((slot, slot.sock, slot.sock.fileno() if raw else -1, slot.target.last))
    clock = time.perf_counter_ns
    raw_send, flags = _RAW_SEND, _RAW_FLAGS
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for slot, sock, fd, last in live:
            try:
                if fd < 0 or raw_send(fd, last, 1, flags) != 1:
                    sock.send(last)
            except Exception as exc:  # noqa: BLE001
                slot.error = _describe(exc, None, "sending the final byte")
                continue
            slot.sent_ns = clock()
    finally:
        if gc_was_enabled:
            gc.enable()


def _raw_send():
    """libc `send(fd, buf, len, flags)` called with the GIL held, or None where that is not available."""
    if not hasattr(socket, "MSG_DONTWAIT"):
        return None, 0
    try:
        import ctypes

        function = ctypes.PyDLL(None).send
    except (ImportError, OSError, AttributeError):
        return None, 0
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int)
    function.restype = ctypes.c_ssize_t
    return function, socket.MSG_DONTWAIT | getattr(socket, "MSG_NOSIGNAL", 0)


_RAW_SEND, _RAW_FLAGS = _raw_send()


def _read_all(slots: list[_Slot], timeout: float, deadline: float, max_body: int | None) -> None:
    """Read the responses of every released request on this thread until each is complete or the deadline
    passes (`timeout` is only named in the error)."""
    selector = selectors.DefaultSelector()
    try:
        for slot in slots:
            if slot.sock is None:
                continue
            # Also a request whose final byte could not be sent: the server may have answered it already.
            slot.sock.setblocking(False)
            selector.register(slot.sock, selectors.EVENT_READ, slot)
            # A TLS socket may already hold decrypted bytes that select() cannot see.
            _on_readable(slot, selector, max_body)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in selector.select(remaining):
                _on_readable(key.data, selector, max_body)
        for key in list(selector.get_map().values()):
            slot = key.data
            what = "the response body" if slot.status is not None else "a response"
            slot.error = slot.error or f"timed out after {timeout:g} s waiting for {what}"
            selector.unregister(key.fileobj)
    finally:
        selector.close()


def _on_readable(slot: _Slot, selector: selectors.BaseSelector, max_body: int | None) -> None:
    """Drain what the socket holds into h11 and collect events; unregister the slot once it is finished."""
    conn = slot.target.conn
    finished = False
    while not finished:
        try:
            data = slot.sock.recv(_RECV_SIZE)
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return
        except Exception as exc:  # noqa: BLE001 - a reset, a TLS failure
            slot.error = slot.error or _describe(exc, None, "reading the response")
            finished = True
            break
        try:
            conn.receive_data(data)  # b"" is EOF
            finished = _events(slot, conn, max_body)
        except h11.RemoteProtocolError as exc:
            slot.error = _closed_early(slot) if not data else f"invalid HTTP response: {exc}"
            finished = True
        if not data and not finished:
            slot.error = slot.error or _closed_early(slot)
            finished = True
    selector.unregister(slot.sock)


def _events(slot: _Slot, conn: h11.Connection, max_body: int | None) -> bool:
    """Consume h11 events; True once the response is complete or its body has reached `max_body` bytes."""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA or event is h11.PAUSED:
            return False
        if isinstance(event, h11.InformationalResponse):  # 100 Continue and the like
            continue
        if isinstance(event, h11.Response):
            slot.status = event.status_code
            headers: dict[str, str] = {}
            for name, value in event.headers:
                key, text = name.decode("latin-1").lower(), value.decode("latin-1")
                headers[key] = f"{headers[key]}, {text}" if key in headers else text
            slot.headers = headers
        elif isinstance(event, h11.Data):
            data = bytes(event.data)
            if max_body is not None and slot.body_size + len(data) > max_body:
                slot.body.append(data[:max_body - slot.body_size])
                slot.error = f"response body longer than {max_body} bytes: cut there"
                return True
            slot.body.append(data)
            slot.body_size += len(data)
        elif isinstance(event, h11.EndOfMessage):
            slot.done_ns = time.perf_counter_ns()
            return True
        elif isinstance(event, h11.ConnectionClosed):
            return True


def _closed_early(slot: _Slot) -> str:
    if slot.status is None:
        return "connection closed by the server before a response"
    return "connection closed by the server before the response was complete"


def _response(slot: _Slot, first_ns: int) -> BurstResponse:
    error = slot.error
    if error is None and slot.done_ns is None:
        error = _closed_early(slot)
    end = slot.done_ns if slot.done_ns is not None else time.perf_counter_ns()
    elapsed = (end - slot.sent_ns) / 1e6 if slot.sent_ns is not None else 0.0
    return BurstResponse(
        status=slot.status,
        headers=slot.headers,
        body=b"".join(slot.body),
        error=error,
        elapsed_ms=float(elapsed),
        sent_ms=(slot.sent_ns - first_ns) / 1e6 if slot.sent_ns is not None else None,
    )


def _describe(exc: BaseException, timeout: float | None, phase: str) -> str:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"timed out after {timeout:g} s {phase}" if timeout else f"timed out {phase}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return f"connection reset by the server {phase}"
    if isinstance(exc, BrokenPipeError):
        return f"connection closed by the server {phase}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host: {exc.strerror or exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {exc.verify_message or exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error {phase}: {exc.reason or exc}"
    return f"{type(exc).__name__} {phase}: {exc}"



def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
