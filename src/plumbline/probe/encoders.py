"""Request bodies in the media types an API declares: JSON, HTML forms and multipart forms.

The probe builds every body as a JSON-like value (a dict for an object schema); `encode` turns it into the
bytes and `Content-Type` of the operation's media type, and `evidence_of` turns the bytes back into a value
for a report. A body a form cannot express (a list, a number: what an invalid-input test sends) is sent as
JSON text under the declared media type: it is meant to be refused.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode

from plumbline.jsonpointer import pointer  # noqa: F401  (the probe reads pointers through this module)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
MEDIA_TYPES = (JSON, FORM, MULTIPART)  # in the order a request body's media type is chosen from a spec
UPLOAD_NAME = "plumbline.txt"  # the file name of a multipart part given as bytes
MAX_JSON_DEPTH = 64  # deeper JSON answers are kept as text: nothing downstream recurses without bound


def media_type_of(declared: str) -> str | None:
    """The encoder for a media type as a spec or a Content-Type names it (`application/vnd.x+json;
    charset=utf-8` is JSON), or None when none fits."""
    kind = declared.split(";", 1)[0].strip().lower()
    if kind.endswith(("/json", "+json")):
        return JSON
    return kind if kind in (FORM, MULTIPART) else None


def encode(body: Any, media_type: str | None = None) -> tuple[bytes, str]:
    """`body` as bytes and the Content-Type header that names them (JSON unless `media_type` says otherwise)."""
    kind = media_type_of(media_type or JSON) or JSON
    if kind == JSON or not isinstance(body, dict):
        return json.dumps(body).encode(), JSON if kind == JSON else kind
    if kind == FORM:
        return urlencode(list(_fields(body))).encode(), FORM
    return _multipart(body)


def evidence_of(content: bytes, content_type: str | None) -> Any:
    """A sent body as a report shows it: the value for JSON and forms, else the text."""
    kind = media_type_of(content_type or JSON)
    text = content.decode("utf-8", "replace")
    if kind == MULTIPART:
        return text
    try:
        return json.loads(text)  # a form's media type may carry JSON text: see `encode`
    except (ValueError, RecursionError):
        return dict(parse_qsl(text, keep_blank_values=True)) if kind == FORM else text


def _fields(body: dict) -> list[tuple[str, str | bytes]]:
    """Form fields: a list is repeated under its key, an object or null is sent as JSON text."""
    fields: list[tuple[str, str | bytes]] = []
    for key, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            fields.append((str(key), _field_text(item)))
    return fields


def _field_text(value: Any) -> str | bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)) or value is None:
        return json.dumps(value)
    return str(value)


def _multipart(body: dict) -> tuple[bytes, str]:
    boundary = f"plumbline-{secrets.token_hex(12)}"
    parts = []
    for name, value in _fields(body):
        quoted = name.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
        if isinstance(value, bytes):
            head = (f'Content-Disposition: form-data; name="{quoted}"; filename="{UPLOAD_NAME}"\r\n'
                    "Content-Type: application/octet-stream")
        else:
            head, value = f'Content-Disposition: form-data; name="{quoted}"', value.encode()
        parts.append(f"--{boundary}\r\n{head}\r\n\r\n".encode() + value + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"{MULTIPART}; boundary={boundary}"


def json_of(content: bytes | str) -> Any:
    """`content` parsed as JSON, or None when it is not JSON or nests deeper than MAX_JSON_DEPTH."""
    try:
        value = json.loads(content)
    except (ValueError, RecursionError):
        return None
    return value if _depth_within(value, MAX_JSON_DEPTH) else None


def _depth_within(value: Any, limit: int) -> bool:
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth >= limit:
                return False
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return True
