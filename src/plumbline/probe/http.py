"""Every request the probe sends goes through here: identities, the target's origin, the request budget,
the rate limit, the deadline and body cap of each request, and redaction of secrets before anything
reaches a report."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from plumbline.probe.auth import (
    ANONYMOUS,
    GARBAGE,
    HEADER_VALUE,
    NOBODY,
    Auth,
    AuthError,
    Identity,
)
from plumbline.probe.burst import BurstResult, PreparedRequest, last_byte_burst
from plumbline.probe.client import BoundedClient
from plumbline.probe.encoders import MAX_JSON_DEPTH, encode, evidence_of, json_of
from plumbline.probe.origin import OffOriginError, Origin
from plumbline.probe.redact import Redactor

# Identity and the sender names live in auth.py, JSON parsing in encoders.py; they are used from here too.
__all__ = [
    "ANONYMOUS",
    "GARBAGE",
    "MAX_JSON_DEPTH",
    "NOBODY",
    "AuthError",
    "BudgetExhausted",
    "Exchange",
    "Http",
    "Identity",
    "TargetError",
    "body_of",
    "json_of",
]
DEFAULT_MAX_BODY = 4 * 2**20
TRIM = 600


class TargetError(Exception):
    """The target cannot be used (unreachable, times out, answers garbage); the message says how."""


class BudgetExhausted(Exception):
    """The request budget is spent; the run stops sending and reports what it has."""


@dataclass
class Exchange:
    """One request and its response, as evidence: secrets redacted, bodies trimmed."""

    method: str
    url: str
    identity: str | None
    request_body: Any
    status: int | None
    response_body: Any
    error: str | None = None

    def as_evidence(self) -> dict:
        result = {"request": f"{self.method} {self.url}", "as": self.identity or "nobody",
                  "status": self.status}
        if self.request_body is not None:
            result["request_body"] = self.request_body
        if self.response_body not in (None, ""):
            result["response_body"] = self.response_body
        if self.error:
            result["error"] = self.error
        return result


@dataclass
class Http:
    """Sends the probe's requests to one origin: `base_url`'s scheme, host and port, under its path.

    Each identity (and the anonymous, garbage-token and no-credential senders) has its own client, so a
    cookie set for one is never sent as another, and its own `Auth` provider, which adds its credentials
    to each request and logs in again once when a request answers 401. Each request ends within `timeout`
    seconds, connection included, and keeps at most `max_body` bytes of decoded body."""

    base_url: str
    identities: dict[str, Auth]
    max_requests: int = 2000
    rate: float = 200.0  # requests per second between bursts; a burst itself is never throttled
    timeout: float = 15.0
    max_body: int = DEFAULT_MAX_BODY
    sent: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    _clients: dict[str, BoundedClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_send: float = 0.0

    def __post_init__(self) -> None:
        self.origin = Origin.of(self.base_url)  # ValueError for a base URL that cannot be used
        self.base_url = self.origin.base_url
        self.redact = Redactor({})
        for auth in self.identities.values():
            for secret in auth.secrets():
                self.redact.add(auth.name, secret)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def log_in(self) -> None:
        """Every identity obtains its credentials (registers, logs in); TargetError naming the one that cannot."""
        for auth in self.identities.values():
            try:
                auth.start(self)
            except AuthError as exc:
                raise TargetError(self.redact(str(exc))) from None

    def user_id(self, identity: str) -> Any:
        """The identity's own id as the API names it, when its login or its `me` operation said (else None)."""
        auth = self.identities.get(identity) if identity else None
        return auth.user_id if auth else None

    def claimed_id(self, identity: str) -> Any:
        """The id the identity's token claims (a JWT's `sub`...), or None."""
        auth = self.identities.get(identity) if identity else None
        return auth.claimed_id() if auth else None

    def url(self, path: str, params: dict | None = None) -> str:
        """`path` under the base URL; OffOriginError for anything that would leave the target's origin."""
        return self.origin.url(path, params)

    def headers(self, identity: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "plumbline-probe"}
        if identity == GARBAGE:
            headers["Authorization"] = "Bearer plumbline-garbage-token-0000000000000000"
        elif identity and identity != ANONYMOUS:
            headers.update(self.identities[identity].credentials())
        return headers

    def body(self, identity: str | None, body: Any) -> Any:
        """`body` with the identity's own fields (its CSRF token) in place of the strings generated for them;
        a value of another type is an invalid-input test and stays as it is."""
        auth = self.identities.get(identity) if identity else None
        fields = auth.body_fields() if auth else {}
        if not fields or not isinstance(body, dict):
            return body
        return {**body, **{name: value for name, value in fields.items() if isinstance(body.get(name), str)}}

    def cookies(self, identity: str | None) -> dict[str, str]:
        """The cookies the identity's client holds (its session), by name."""
        return {cookie.name: cookie.value for cookie in self._client(identity).cookies.jar
                if cookie.value and HEADER_VALUE.fullmatch(f"{cookie.name}={cookie.value}")}

    def clear_cookies(self, identity: str | None) -> None:
        self._client(identity).cookies.clear()

    def _client(self, identity: str | None) -> BoundedClient:
        key = identity or NOBODY
        if key not in self._clients:
            self._clients[key] = BoundedClient(self.timeout, self.max_body)
        return self._clients[key]

    def _charge(self, count: int) -> None:
        with self._lock:
            if self.sent + count > self.max_requests:
                raise BudgetExhausted(f"request budget of {self.max_requests} spent")
            self.sent += count
            now = time.monotonic()
            wait = self._next_send - now
            self._next_send = max(now, self._next_send) + count / self.rate
        if wait > 0:
            time.sleep(wait)

    def _checked_url(self, method: str, path: str, params: dict | None, identity: str | None, body: Any) -> str:
        """The URL of a request about to be sent; a refused one is recorded and raised as a TargetError."""
        try:
            return self.url(path, params)
        except OffOriginError as exc:
            self._record(method, path, identity, body, None, None, str(exc))
            raise TargetError(f"{method} {self.redact(str(exc))}") from None

    def request(self, method: str, path: str, *, identity: str | None, json_body: Any = None,
                params: dict | None = None, extra_headers: dict | None = None, media_type: str | None = None,
                authenticate: bool = True,
                on_response: Callable[[httpx.Response], None] | None = None) -> httpx.Response:
        """One request as `identity`. `json_body` is the body as a value, encoded as `media_type` (JSON by
        default; see encoders.py). A 401 to an identity that can log in again
        makes it log in and the request is sent once more (not when `authenticate` is False: a login step
        itself). `on_response` sees the answer before it is recorded: a login registers its secrets there."""
        response = self._send(method, path, identity, json_body, params, extra_headers, media_type, on_response)
        auth = self.identities.get(identity) if identity else None
        if response.status_code == 401 and authenticate and auth is not None and self._refresh(auth):
            response = self._send(method, path, identity, json_body, params, extra_headers, media_type, on_response)
            auth.refreshed(still_refused=response.status_code == 401)
        return response

    def _refresh(self, auth: Auth) -> bool:
        try:
            return auth.refresh(self)
        except AuthError as exc:
            raise TargetError(f"logging in again after a 401: {self.redact(str(exc))}") from None

    def _send(self, method, path, identity, body, params, extra_headers, media_type, on_response) -> httpx.Response:
        body = self.body(identity, body)
        url = self._checked_url(method, path, params, identity, body)
        self._charge(1)
        headers = {**self.headers(identity), **(extra_headers or {})}
        content = None
        if body is not None:
            content, headers["Content-Type"] = encode(body, media_type)
        try:
            reply = self._client(identity).send(method, url, headers=headers, content=content)
        except httpx.TimeoutException as exc:
            self._record(method, url, identity, body, None, None, f"no answer within {self.timeout:g} s")
            raise TargetError(f"{method} {self.redact(url)}: no answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            self._record(method, url, identity, body, None, None, reason)
            raise TargetError(f"{method} {self.redact(url)}: {self.redact(reason)}") from exc
        response = reply.response
        if on_response is not None:
            on_response(response)
        self._record(method, url, identity, body, response.status_code, body_of(response.content), reply.note)
        return response

    def prepare(self, method: str, path: str, *, identity: str | None, json_body: Any = None,
                params: dict | None = None, media_type: str | None = None) -> PreparedRequest:
        """A request for a burst, with the identity's credentials as they are now; the body as in `request`."""
        headers = self.headers(identity)
        json_body = self.body(identity, json_body)
        body = b""
        if json_body is not None:
            body, headers["Content-Type"] = encode(json_body, media_type)
        url = self._checked_url(method, path, params, identity, json_body)
        return PreparedRequest(method=method, url=url, headers=headers, body=body)

    def burst(self, requests: list[PreparedRequest], identity: str | None) -> BurstResult:
        for request in requests:  # prepared here, but a PreparedRequest can be made anywhere: check again
            if not self.origin.contains(request.url):
                raise TargetError(f"refused a burst to {self.redact(request.url)}: not on the target's origin")
        self._charge(len(requests))
        result = last_byte_burst(requests, timeout=self.timeout, max_body=self.max_body)
        for request, response in zip(requests, result.responses):
            sent = evidence_of(request.body, request.headers.get("Content-Type")) if request.body else None
            self._record(request.method, request.url, identity, sent, response.status, body_of(response.body),
                         response.error)
        return result

    def _record(self, method, url, identity, request_body, status, response_body, error) -> None:
        with self._lock:
            self.exchanges.append(Exchange(method, self.redact(url), identity, self.redact(request_body), status,
                                           self.redact(response_body), self.redact(error)))


def body_of(content: bytes) -> Any:
    """A response body as evidence: parsed JSON (trimmed) or text (trimmed)."""
    value = json_of(content)
    if value is None:
        text = content[:TRIM * 4].decode("utf-8", "replace")
        return text if len(text) <= TRIM else text[:TRIM] + "…"
    encoded = json.dumps(value)
    if len(encoded) <= TRIM * 4:
        return value
    if isinstance(value, list):
        return [*value[:5], f"… {len(value) - 5} more"]
    return encoded[:TRIM * 4] + "…"
