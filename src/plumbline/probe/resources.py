"""Objects the probe works on, wherever they come from, and the reads that show their state.

A check needs an object: one it creates (preferred, with --active), one a list operation shows, a value the
spec gives as an example, one seen in any earlier response, or none at all for a caller-scoped singleton
(`POST /wallet/spend`). `Resource` is such an object with the way it was obtained (`source`), so that its
values can fill the inputs of the operations that use it through OpenAPI runtime expressions.

`Sightings` remembers the values of every response so far by resource family and property name, so that a
consumer's input (`/products/{code}`, a body's `product_id`) can be filled from what a producer returned:
inference by name, in the style of RESTler, beside the spec's links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from plumbline.probe.encoders import pointer
from plumbline.probe.spec import Operation
from plumbline.vocabulary import noun, nouns_named_by, words

Source = Literal["created", "listed", "seeded", "found", "singleton"]
SOURCE_NOTES: dict[str, str] = {"created": "a created object", "listed": "a listed object",
                                "seeded": "a seeded value from the spec", "found": "an object seen in a response",
                                "singleton": "a singleton", "given": "an identity's own id",
                                "generated": "generated values"}
MAX_SIGHTINGS = 50  # values kept per (family, property)


@dataclass
class Resource:
    """An object to work on, how it was obtained, and the request and response that made or showed it."""

    creator: Operation | None
    owner: str | None
    sent: Any
    response: Any
    location: str | None
    source: Source = "created"
    path_values: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def evaluate(self, expression: str) -> Any:
        """An OpenAPI runtime expression against the request and response that made the object:
        `$response.body#/id`, `$response.header.Location`, `$request.body#/title`, `$request.path.id`,
        `$request.query.code`, each optionally in braces."""
        expression = expression.strip()
        if expression.startswith("{") and expression.endswith("}"):
            expression = expression[1:-1]
        if expression.startswith("$response.body#"):
            return pointer(self.response, expression[len("$response.body#"):])
        if expression.startswith("$request.body#"):
            return pointer(self.sent, expression[len("$request.body#"):])
        if expression in ("$response.body", "$request.body"):
            return self.response if expression == "$response.body" else self.sent
        for prefix, values in (("$request.path.", self.path_values), ("$request.query.", self.query)):
            if expression.startswith(prefix):
                return values.get(expression[len(prefix):])
        if expression.lower().startswith("$response.header."):
            name = expression[len("$response.header."):].lower()
            if name == "location":
                return self.location.rstrip("/").rsplit("/", 1)[-1] if self.location else None
            return self.headers.get(name)
        return None

    def find_in(self, items: list[dict]) -> dict | None:
        """This object among listed ones: the one with the id its create answered, else the one that shows
        every string it was sent with (an object named by its title or username)."""
        made = unwrap(self.response)
        key = made.get("id") if isinstance(made, dict) else None
        if key is not None:
            return next((item for item in items if item.get("id") == key), None)
        sent = unwrap(self.sent)
        strings = {k: v for k, v in sent.items() if isinstance(v, str)} if isinstance(sent, dict) else {}
        return next((item for item in items if strings and all(item.get(k) == v for k, v in strings.items())), None)


def family(path: str) -> str:
    """The resource family of a path: the noun of the collection it addresses.
    `/products/{code}/buy` -> product; `/users/{owner}/notes` -> note; `/wallet/spend` -> wallet;
    `/api/v1/books` -> book."""
    segments = [s for s in path.strip("/").split("/") if s and not re.fullmatch(r"api|rest|v\d+", s)]
    if segments and not segments[-1].startswith("{") and segments[-1].endswith("s") and len(segments) > 1:
        return noun(segments[-1])  # a nested collection: /users/{owner}/notes
    addressed = [s for s, after in zip(segments, segments[1:]) if not s.startswith("{") and after.startswith("{")]
    if addressed:
        return noun(addressed[-1])
    literal = [s for s in segments if not s.startswith("{")]
    return noun(literal[0]) if literal else ""


def unwrap(value: Any) -> Any:
    """The object inside a single-key envelope (`{"article": {...}}` -> `{...}`), else `value` itself: many APIs
    wrap each object they send and receive in one property named after it."""
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value.values()))
        if isinstance(inner, dict) and inner:
            return inner
    return value


def with_fields(body: Any, fields: dict[str, Any]) -> Any:
    """`body` with `fields` set, inside its envelope (`{"article": {...}}`) when it has one."""
    inner = unwrap(body)
    if inner is not body:
        return {next(iter(body)): {**inner, **fields}}
    return {**body, **fields} if isinstance(body, dict) else body


def items_of(body: Any) -> list[dict]:
    """The objects of a list answer: a bare list, or the one list property of an object (`{"items": [...]}`)."""
    if isinstance(body, dict):
        lists = [v for v in body.values() if isinstance(v, list)]
        body = lists[0] if len(lists) == 1 else None
    return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []


@dataclass
class Sightings:
    """Scalar values seen in responses, by (family, property): what a producer returned, for consumers to use."""

    values: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def record(self, operation: Operation, body: Any) -> None:
        base = family(operation.path)
        objects = items_of(body) or ([body] if isinstance(body, dict) else [])
        for item in objects:
            self._record_object(base, item, 0)

    def _record_object(self, base: str, item: dict, depth: int) -> None:
        for key, value in item.items():
            if isinstance(value, dict) and depth < 2:
                self._record_object(noun(key), value, depth + 1)
            elif isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
                bucket = self.values.setdefault((base, key), [])
                if value not in bucket and len(bucket) < MAX_SIGHTINGS:
                    bucket.append(value)

    def for_input(self, name: str, path: str) -> list[Any]:
        """Values seen that can fill input `name` (a path parameter of `path`, or a body field) best first: the
        same property name (`code` -> `code`), then the id of the family the input names (`product_id`,
        `pid` -> product's `id`) or, for a path parameter, of the collection above it (`/products/{pid}`)."""
        wanted = words(name).replace(" ", "_")
        at = path.find("{" + name + "}")
        families = nouns_named_by(name) | ({family(path[:at])} if at > 0 else set())
        exact: list[Any] = []
        related: list[Any] = []
        for (base, key), values in self.values.items():
            key_words = words(key).replace(" ", "_")
            if key_words == wanted and (base in families or wanted not in ("id", "name")):
                exact.extend(values)
            elif any(_same_noun(base, f) for f in families) and key_words in ("id", f"{base}_{wanted}"):
                related.extend(values)
        return list(dict.fromkeys(exact + related))


def _same_noun(have: str, wanted: str) -> bool:
    """`product` matches `product`, and a one-letter abbreviation (`pid` -> `p`) matches the noun it starts."""
    return bool(have) and (have == wanted or len(wanted) == 1 and have.startswith(wanted))
