"""Keeping the identities' secrets out of everything the probe writes.

A server may echo a credential in many shapes: the whole header value (`Bearer abc`), the token alone
(`abc`), URL-encoded (`abc%2Bdef`), or, for Basic credentials, the decoded `user:password` or the password.
`Redactor` knows every shape of every identity's secret and replaces them in strings and nested JSON values.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import quote, quote_plus

# Keys of JSON objects whose string values are masked whoever they belong to.
SECRET_KEYS = re.compile(r"authorization|cookie|token|api[-_]?key|secret|session|x-auth|password", re.I)
NOT_SECRET_KEYS = {"token_type"}
# A shape of a secret shorter than this is not searched for: it would mask ordinary text everywhere.
SHORTEST_DERIVED_FORM = 4


def secret_forms(value: str) -> set[str]:
    """Every shape in which a header value `value` may come back from a server."""
    forms = {value}
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if token:
        forms.add(token)
        if scheme.lower() == "basic":
            forms |= _basic_forms(token)
    for form in list(forms):
        forms |= {quote(form, safe=""), quote(form), quote_plus(form)}
    return {form for form in forms if form == value or len(form) >= SHORTEST_DERIVED_FORM}


def _basic_forms(token: str) -> set[str]:
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return set()
    return {decoded, decoded.partition(":")[2]} - {""}


class Redactor:
    """Replaces every shape of each identity's secret with `<redacted:NAME>` in strings and nested values.

    Secrets obtained during the run (a token a login answered, a session cookie) are added with `add`."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self._secrets: set[tuple[str, str]] = set()
        self._state: tuple[dict[str, str], re.Pattern | None] = ({}, None)  # shape -> owner, and their pattern
        for name, value in secrets.items():
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        """Redact every shape of `value` as `<redacted:NAME>` from now on; a secret already known keeps its owner."""
        if not value or (name, value) in self._secrets:
            return
        self._secrets.add((name, value))
        owner = dict(self._state[0])
        for form in secret_forms(value):
            owner.setdefault(form.lower(), name)
        ordered = sorted(owner, key=len, reverse=True)  # the longest shape first: "Bearer abc" before "abc"
        # one assignment: a thread redacting meanwhile sees the old state or the new one, each complete
        self._state = owner, re.compile("|".join(map(re.escape, ordered)), re.I)

    def text(self, value: str) -> str:
        owner, pattern = self._state
        if pattern is None:
            return value
        return pattern.sub(lambda match: f"<redacted:{owner[match.group(0).lower()]}>", value)

    def __call__(self, value: Any) -> Any:
        """`value` with secrets replaced: strings, and the keys and values of dicts and lists, recursively;
        string values under secret-looking keys (`token`, `api_key`, ...) are masked whatever they hold."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(key)): "<redacted>" if _secret_key(key) and isinstance(item, str) else self(item)
                    for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(item) for item in value]
        return value


def _secret_key(key: Any) -> bool:
    return isinstance(key, str) and key not in NOT_SECRET_KEYS and bool(SECRET_KEYS.search(key))
