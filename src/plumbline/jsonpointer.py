"""JSON pointers (RFC 6901), for every engine that reads documents: OpenAPI links, login answers, $refs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def pointer(value: Any, path: str, step: Callable[[], None] | None = None) -> Any:
    """The JSON pointer `path` (RFC 6901: `/items/0/id`, `~1` for `/`) in `value`, or None.

    `step` is called before each part: a reader of untrusted documents counts its work with it."""
    for part in path.strip("/").split("/") if path.strip("/") else []:
        if step is not None:
            step()
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdecimal() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
