"""An HTTP client a hostile server cannot hold: every request ends by a deadline, every body is capped.

httpx's timeouts apply to each network operation, so a server that trickles one byte every half second
keeps a request alive for ever, and httpx decodes gzip without a limit, so a small compressed body can
fill the memory. `BoundedClient` gives each request one deadline (connect, send, headers and body
together): the network streams under httpx's connection pool take their timeouts from what is left of it.
Bodies are read raw and decoded here, with the cap applied to the decoded bytes.
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass

import httpcore
import httpx

ACCEPT_ENCODING = "gzip, deflate"  # the only encodings decoded here; a server that sends others is kept raw
ZLIB_FORMATS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
BODY_HEADERS = (b"content-encoding", b"content-length", b"transfer-encoding")


@dataclass(frozen=True)
class Reply:
    """A response whose body was read (decoded, at most the client's cap), and what was unusual about it."""

    response: httpx.Response
    note: str | None = None  # "body cut at 4 MiB", "body in an unsupported encoding (br) kept as sent", ...
    cut: bool = False  # the body was longer than the cap


class BoundedClient:
    """One httpx client (one cookie jar) whose requests each end within `timeout` seconds, bodies capped at
    `max_body` decoded bytes. Redirects are never followed here."""

    def __init__(self, timeout: float, max_body: int) -> None:
        self.timeout = timeout
        self.max_body = max_body
        self._clock = _Clock()
        self._client = httpx.Client(transport=_DeadlineTransport(self._clock), timeout=timeout,
                                    follow_redirects=False, trust_env=False)

    def send(self, method: str, url: str, *, headers: dict[str, str], content: bytes | None = None) -> Reply:
        """The reply to one request; httpx.TimeoutException when the deadline passes, httpx.HTTPError when
        the exchange fails."""
        headers = {**headers, "Accept-Encoding": ACCEPT_ENCODING}
        _drop_unsendable_cookies(self._client.cookies)
        request = self._client.build_request(method, url, headers=headers, content=content)
        self._clock.deadline = time.monotonic() + self.timeout
        try:
            streamed = self._client.send(request, stream=True)
            try:
                body = _read_body(streamed, self.max_body)
            finally:
                streamed.close()
        finally:
            self._clock.deadline = None
        # Raw bytes: a header value need not be ASCII, and re-encoding its decoded text would fail.
        kept = [(name, value) for name, value in streamed.headers.raw if name.lower() not in BODY_HEADERS]
        response = httpx.Response(streamed.status_code, headers=kept, content=body.data, request=request)
        return Reply(response, body.note, body.cut)

    @property
    def cookies(self) -> httpx.Cookies:
        """This client's cookie jar: what the server set for it, sent back on its later requests."""
        return self._client.cookies

    def close(self) -> None:
        self._client.close()


def _drop_unsendable_cookies(cookies: httpx.Cookies) -> None:
    """Forget cookies a server set with non-ASCII bytes: sending one back would fail to encode the request."""
    for cookie in list(cookies.jar):
        if not (cookie.name + (cookie.value or "")).isascii():
            cookies.jar.clear(cookie.domain, cookie.path, cookie.name)


@dataclass(frozen=True)
class _Body:
    data: bytes
    note: str | None = None
    cut: bool = False


def _read_body(response: httpx.Response, limit: int) -> _Body:
    """The decoded body, cut after `limit` bytes; a note when it was cut or could not be decoded."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    decoder = zlib.decompressobj(ZLIB_FORMATS[encoding]) if encoding in ZLIB_FORMATS else None
    note = None if decoder or encoding in ("", "identity") else f"body in an unsupported encoding ({encoding}) kept as sent"
    body = bytearray()
    for chunk in response.iter_raw():
        if decoder is not None:
            try:
                chunk = decoder.decompress(chunk, limit + 1 - len(body))  # never more than one byte past the cap
            except zlib.error:
                return _Body(bytes(body), f"body not decodable as {encoding}")
        body += chunk
        if len(body) > limit:
            return _Body(bytes(body[:limit]), f"body cut at {_size(limit)}", cut=True)
    return _Body(bytes(body), note)


def _size(count: int) -> str:
    return f"{count / 2**20:g} MiB" if count >= 2**20 else f"{count} bytes"


class _Clock(threading.local):
    """The deadline of the request in flight on this thread (None between requests)."""

    deadline: float | None = None

    def left(self, timeout: float | None, error: type[Exception]) -> float | None:
        """`timeout` shortened to what is left before the deadline; `error` once it has passed."""
        if self.deadline is None:
            return timeout
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise error("no complete answer before the request's deadline")
        return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, clock: _Clock) -> None:
        self._inner = inner
        self._clock = clock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._clock.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._clock.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> "_DeadlineStream":
        inner = self._inner.start_tls(ssl_context, server_hostname, self._clock.left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner, self._clock)

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, clock: _Clock) -> None:
        self._inner = httpcore.SyncBackend()
        self._clock = clock

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None) -> _DeadlineStream:
        timeout = self._clock.left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options), self._clock)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _DeadlineTransport(httpx.HTTPTransport):
    def __init__(self, clock: _Clock) -> None:
        super().__init__(trust_env=False)
        # httpx has no parameter for httpcore's network backend: its connection pool is replaced by an
        # identical one (same TLS defaults) whose sockets go through the deadline backend.
        self._pool.close()
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                             network_backend=_DeadlineBackend(clock))
