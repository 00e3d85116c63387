"""What API property and parameter names mean: one vocabulary for every engine.

A name is split into lower-case words (`ownerId`, `owner_id` and `owner-id` are all `owner id`), and a
category matches on whole words, never on substrings: `postcode` is not a `code`, `username` is a
`username`. The lists say which names are *candidates*; a check still proves what a name means from the
API's behaviour (a unique-looking field is unique only if a second sequential create is refused).

Categories:
- owner: a reference to the user or tenant that owns an object (`user_id`, `owner`, `author`, `tenant`).
- identity: the caller's own id as the API shows it (`id`, `user_id`, `uid`, `sub`).
- unique: values that name one object (`email`, `username`, `slug`, `code`, `sku`, `device`, `name`).
- quantity / money: numbers an action consumes or moves (`stock`, `quantity`, `balance`, `amount`).
- version: optimistic-locking counters (`version`, `revision`, `etag`).
- privilege: properties a client should never set (`role`, `is_admin`, `verified`, `price`, `status`).
"""

from __future__ import annotations

import re
from typing import Any

OWNER = frozenset({"user", "user id", "owner", "owner id", "author", "author id", "account", "account id",
                   "tenant", "tenant id", "created by", "creator", "creator id", "customer id", "member id",
                   "org id", "organization id"})
IDENTITY = ("id", "user_id", "userId", "uid", "sub", "account_id")
UNIQUE = frozenset({"email", "mail", "e mail", "username", "user name", "login", "handle", "slug", "code", "sku",
                    "device", "nickname", "name", "title", "isbn", "serial"})
QUANTITY = frozenset({"stock", "quantity", "qty", "count", "remaining", "available", "inventory", "seats",
                      "uses", "uses left", "redemptions", "limit", "votes", "likes"})
MONEY = frozenset({"balance", "amount", "credit", "credits", "price", "total", "funds", "points"})
VERSION = frozenset({"version", "revision", "rev", "etag", "lock version"})

# Properties to inject in a mass-assignment attempt, with the value that shows it was stored.
PRIVILEGED_VALUES: dict[str, Any] = {
    "role": "admin", "is_admin": True, "admin": True, "verified": True, "status": "approved", "balance": 999_999,
    "credits": 999_999, "price": 1, "version": 999,
}

# Owner references to set to the other identity's id when a schema names none of its own.
OWNER_CANDIDATES = ("user_id", "owner_id", "owner", "account_id", "tenant_id", "author_id")

# Words in a 2xx answer that say the request was refused all the same ("already exists").
REFUSAL = re.compile(r"already (exists|registered|taken|in use|used|redeemed)|\bexists already\b|duplicate|"
                     r"\bnot allowed\b|insufficient|not enough|out of stock|exceed|"
                     r"\b(failed|failure|refused|denied|forbidden|rejected)\b", re.I)

# Read operations that show the caller itself.
ME_PATH = re.compile(r"/(me|whoami|profile|user|users/me|account|self)$")


def words(name: str) -> str:
    """`name` as lower-case words separated by one space: `ownerId` -> `owner id`, `to-account` -> `to account`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return " ".join(re.split(r"[^A-Za-z0-9]+", spaced)).strip().lower()


def _ends_with(name: str, category: frozenset[str]) -> bool:
    """Whether the last words of `name` are one of the category's names: `from_account_id` is an account id."""
    parts = words(name).split()
    return any(" ".join(parts[i:]) in category for i in range(len(parts)))


def is_owner(name: str) -> bool:
    return words(name) in OWNER


def is_reference(name: str) -> bool:
    """A field that names another object: `account_id`, `to_account`, `productId`, `pid`, `code`."""
    parts = words(name).split()
    return bool(parts) and (parts[-1] in ("id", "uuid", "ref", "key", "code", "slug", "pid", "uid")
                            or len(parts) > 1 and parts[0] in ("from", "to", "source", "target", "parent"))


def is_unique(name: str) -> bool:
    return _ends_with(name, UNIQUE)


def is_quantity(name: str) -> bool:
    return _ends_with(name, QUANTITY) or _ends_with(name, MONEY)


def is_version(name: str) -> bool:
    return words(name) in VERSION


def ceiling_of(name: str, names) -> str | None:
    """The field among `names` that caps counter `name`: `max_uses` for `uses`, `seats_limit` for `seats`."""
    wanted = words(name).replace(" ", "_")
    shapes = {f"max_{wanted}", f"{wanted}_max", f"{wanted}_limit", f"{wanted}_cap", f"maximum_{wanted}",
              f"{wanted}_allowed", f"max_{noun(wanted)}s"}
    return next((other for other in names if words(other).replace(" ", "_") in shapes), None)


def noun(segment: str) -> str:
    """A path segment or name as a singular noun: `products` -> `product`, `categories` -> `category`."""
    text = words(segment).replace(" ", "_")
    if text.endswith("ies") and len(text) > 4:
        return text[:-3] + "y"
    if text.endswith(("sses", "shes", "ches", "xes")):
        return text[:-2]
    return text[:-1] if text.endswith("s") and not text.endswith("ss") else text


def nouns_named_by(name: str) -> set[str]:
    """The nouns whose object a field or parameter names: `from_account_id` -> account, from_account; `pid` ->
    p; `product_code` -> product. Used to match a consumer to the collection that produces its values."""
    parts = words(name).split()
    if parts and parts[-1] in ("id", "uuid", "ref", "key", "code", "slug", "pid", "uid") and len(parts) > 1:
        parts = parts[:-1]
    found = {"_".join(parts[i:]) for i in range(len(parts))} | {"_".join(parts[:i]) for i in range(1, len(parts))}
    if len(parts) == 1 and parts[0].endswith("id") and len(parts[0]) > 2:
        found.add(parts[0][:-2])  # pid -> p, productid -> product
    return {noun(item) for item in found if item}
