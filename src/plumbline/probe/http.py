"""Every request the probe sends goes through here: identities, the request budget, the rate limit,
and redaction of secrets before anything reaches a report."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from plumbline.probe.burst import BurstResult, PreparedRequest, last_byte_burst

ANONYMOUS = "<anonymous>"
GARBAGE = "<garbage-token>"
SECRET_HEADERS = re.compile(r"authorization|cookie|token|api[-_]?key|secret|session|x-auth", re.I)
TRIM = 600


class TargetError(Exception):
    """The target cannot be used (unreachable, times out, answers garbage); the message says how."""


class BudgetExhausted(Exception):
    """The request budget is spent; the run stops sending and reports what it has."""


@dataclass(frozen=True)
class Identity:
    name: str
    header: str
    value: str

    @classmethod
    def parse(cls, text: str) -> "Identity":
        """`alice=Authorization: Bearer xyz` (the value after the first '=' is one header line)."""
        name, sep, line = text.partition("=")
        header, colon, value = line.partition(":")
        if not sep or not colon or not name.strip() or not header.strip() or not value.strip():
            raise ValueError(f"expected NAME=HEADER: VALUE, got {redact_text(text)!r}")
        if name.strip() in (ANONYMOUS, GARBAGE):
            raise ValueError(f"reserved identity name {name!r}")
        return cls(name.strip(), header.strip(), value.strip())


def redact_text(text: str) -> str:
    """A header line or free text with anything after 'Bearer'/'Basic' or a key=value secret masked."""
    text = re.sub(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]+", r"\1 <redacted>", text)
    return re.sub(r"(?i)((?:token|api[-_]?key|secret|password)[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+", r"\1<redacted>", text)


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
    base_url: str
    identities: dict[str, Identity]
    max_requests: int = 2000
    rate: float = 200.0  # requests per second between bursts; a burst itself is never throttled
    timeout: float = 15.0
    sent: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    _client: httpx.Client | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_send: float = 0.0

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        self._secrets = {i.value: i.name for i in self.identities.values()}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def url(self, path: str, params: dict | None = None) -> str:
        query = f"?{urlencode(params, doseq=True)}" if params else ""
        return f"{self.base_url}{path}{query}"

    def headers(self, identity: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "plumbline-probe"}
        if identity == GARBAGE:
            headers["Authorization"] = "Bearer plumbline-garbage-token-0000000000000000"
        elif identity and identity != ANONYMOUS:
            chosen = self.identities[identity]
            headers[chosen.header] = chosen.value
        return headers

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

    def request(self, method: str, path: str, *, identity: str | None, json_body: Any = None,
                params: dict | None = None, extra_headers: dict | None = None, raw_body: bytes | None = None
                ) -> httpx.Response:
        self._charge(1)
        url = self.url(path, params)
        headers = {**self.headers(identity), **(extra_headers or {})}
        try:
            if raw_body is not None:
                response = self._client.request(method, url, headers={**headers, "Content-Type": "application/json"},
                                                content=raw_body)
            else:
                response = self._client.request(method, url, headers=headers,
                                                json=json_body if json_body is not None or method in (
                                                    "POST", "PUT", "PATCH") else None)
        except httpx.TimeoutException as exc:
            self._record(method, url, identity, json_body, None, None, f"timed out after {self.timeout:g} s")
            raise TargetError(f"{method} {url}: timed out after {self.timeout:g} s") from exc
        except httpx.TransportError as exc:
            self._record(method, url, identity, json_body, None, None, str(exc) or type(exc).__name__)
            raise TargetError(f"{method} {url}: {exc or type(exc).__name__}") from exc
        self._record(method, url, identity, json_body, response.status_code, body_of(response.content), None)
        return response

    def prepare(self, method: str, path: str, *, identity: str | None, json_body: Any = None,
                params: dict | None = None) -> PreparedRequest:
        headers = self.headers(identity)
        body = b""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        return PreparedRequest(method=method, url=self.url(path, params), headers=headers, body=body)

    def burst(self, requests: list[PreparedRequest], identity: str | None) -> BurstResult:
        self._charge(len(requests))
        result = last_byte_burst(requests, timeout=self.timeout * 2)
        for request, response in zip(requests, result.responses):
            self._record(request.method, request.url, identity,
                         json.loads(request.body) if request.body else None, response.status,
                         body_of(response.body), response.error)
        return result

    def _record(self, method, url, identity, request_body, status, response_body, error) -> None:
        with self._lock:
            self.exchanges.append(Exchange(method, self.redact(url), identity, self.redact(request_body), status,
                                           self.redact(response_body), error))

    def redact(self, value: Any) -> Any:
        """Replace identity secrets anywhere in a value (strings, nested JSON) with <redacted:NAME>."""
        if isinstance(value, str):
            for secret, name in self._secrets.items():
                if secret and secret in value:
                    value = value.replace(secret, f"<redacted:{name}>")
            return value
        if isinstance(value, dict):
            return {k: "<redacted>" if SECRET_HEADERS.search(str(k)) and isinstance(v, str) and k != "token_type"
                    else self.redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact(v) for v in value]
        return value


def body_of(content: bytes) -> Any:
    """A response body as evidence: parsed JSON (trimmed) or text (trimmed)."""
    try:
        value = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        text = content.decode("utf-8", "replace")
        return text if len(text) <= TRIM else text[:TRIM] + "…"
    encoded = json.dumps(value)
    if len(encoded) <= TRIM * 4:
        return value
    if isinstance(value, list):
        return [*value[:5], f"… {len(value) - 5} more"]
    return encoded[:TRIM * 4] + "…"
