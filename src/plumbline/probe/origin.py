"""The target's origin, and the one way a request URL is made: a checked path joined onto the base URL.

A spec is often served by the target itself, so its paths are hostile input: `:8081/steal`, `@other/x`
or `//other/x` glued to a base URL name another port or host, and the identities' credentials would go
there. Every URL the probe sends to is therefore built here, from a path template that must be
origin-relative (`/...`), with path parameter values percent-encoded, and then parsed again (by both
httpx's and the standard library's parser) to check that scheme, host and port are still the base's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters a path parameter value keeps as they are (RFC 3986 pchar minus '/'); everything else is encoded.
PATH_VALUE_SAFE = "!$&'()*+,;=:@"
UNSAFE_IN_TEMPLATE = re.compile(r"[\x00-\x20\x7f\\?#]")


class OffOriginError(ValueError):
    """A URL that would leave the target's origin; it is refused before anything is sent."""


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port of a base URL, and the base URL's path prefix (`/api` or empty)."""

    scheme: str
    host: str
    port: int
    prefix: str

    @classmethod
    def of(cls, url: str, what: str = "BASE_URL") -> "Origin":
        """The origin of an absolute http(s) URL; ValueError (naming `what`, never the URL's secrets) otherwise."""
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"{what} must be an http:// or https:// URL")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{what} is not a valid URL: {exc}") from None
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"{what} must not carry credentials (user:password@): the probe sends credentials "
                             "only as --identity headers")
        if not parts.hostname:
            raise ValueError(f"{what} has no host")
        if port == 0:
            raise ValueError(f"{what} has port 0")
        if parts.query or parts.fragment or "?" in url or "#" in url:
            raise ValueError(f"{what} must not have a query or a fragment")
        if UNSAFE_IN_TEMPLATE.search(parts.path):
            raise ValueError(f"{what} has spaces, control characters or backslashes in its path")
        scheme = parts.scheme.lower()
        origin = cls(scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme], parts.path.rstrip("/"))
        try:
            origin.check(origin.base_url)
        except OffOriginError as exc:
            raise ValueError(f"{what} is ambiguous: {exc}") from None
        return origin

    @property
    def root(self) -> str:
        """scheme://host[:port], the origin itself."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}"

    @property
    def base_url(self) -> str:
        return self.root + self.prefix

    def url(self, path: str, params: dict | None = None) -> str:
        """`path` (origin-relative, `/...`) under the base URL, with `params` as the query; OffOriginError if
        the result would be sent anywhere but this origin."""
        problem = template_problem(path)
        if problem:
            raise OffOriginError(f"refused path {path!r}: {problem}")
        query = f"?{urlencode(params, doseq=True)}" if params else ""
        url = f"{self.base_url}{path}{query}"
        self.check(url)
        return url

    def check(self, url: str) -> None:
        """OffOriginError unless both httpx and the standard library see this origin in `url`."""
        if not self.contains(url):
            raise OffOriginError(f"refused {url[:200]!r}: not on the origin {self.root}")

    def contains(self, url: str) -> bool:
        try:
            ours, theirs = httpx.URL(url), urlsplit(url)
            seen = {(ours.scheme, ours.host, ours.port or DEFAULT_PORTS.get(ours.scheme)),
                    (theirs.scheme.lower(), (theirs.hostname or "").lower(),
                     theirs.port or DEFAULT_PORTS.get(theirs.scheme.lower()))}
        except (httpx.InvalidURL, ValueError):
            return False
        no_credentials = theirs.username is None and theirs.password is None and not ours.userinfo
        return no_credentials and seen == {(self.scheme, self.host, self.port)}


def template_problem(path: Any) -> str | None:
    """Why `path` cannot be a request path on the target (None when it can): it must start with one '/'."""
    if not isinstance(path, str):
        return f"a path must be a string, not {type(path).__name__}"
    if not path.startswith("/") or path.startswith("//"):
        return "a path must start with a single '/'"
    if UNSAFE_IN_TEMPLATE.search(path):
        return "a path must not contain spaces, control characters, backslashes, '?' or '#'"
    return None


def fill_path(template: str, values: dict[str, Any]) -> str:
    """`template` with each `{name}` replaced by its value, percent-encoded so that it stays one segment."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", quote(str(value), safe=PATH_VALUE_SAFE))
    return template
