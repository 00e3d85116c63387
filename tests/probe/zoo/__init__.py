"""The zoo: small Flask APIs shaped unlike the lab, each as a vulnerable and a hardened twin.

    catalogue  seeded products and coupons by code, nothing created (PostgreSQL, SERIALIZABLE)
    wallet     a caller-scoped singleton: GET /wallet, POST /wallet/spend, /wallet/topup (DynamoDB)
    notes      nested owner paths: /users/{owner}/notes/{note_id} (in memory)
    forum      form-encoded writes, a login form, a cookie session, CSRF tokens (PostgreSQL)
    tasks      PATCH partial updates: one sets values, one adds to a counter (PostgreSQL)
    members    no links, no examples; creates answer 200, one names its object by a request field (PostgreSQL)
    listings   mass assignment of owner, status, price and role (DynamoDB)

Every app module here has the same face:

- `build(twin, backends) -> Built`: the Flask app of one twin (`"vulnerable"` or `"hardened"`), on its own
  storage, with the identities the probe runs as, in the probe's configuration format;
- `PLANTED`: the failures the vulnerable twin plants and the probe rules of which one must report each;
- `PROOFS`: for each planted failure, a function that shows it by hand (zoo.clients), without the probe;
- `SOUND`: look-alikes that must not be reported on either twin (a PATCH that sets a value is not a lost update);
- `KNOWN_FALSE_ALARMS`: findings the current probe wrongly raises, written down so that they are seen and fixed.

A planted failure the probe cannot prove yet carries `known_miss=<why>`: the zoo test reports it as a warning
and fails once the probe finds it, so the mark gets dropped; the same goes for a known false alarm that is no
longer raised. Both twins serve the same API and the same OpenAPI document at `/openapi.json`. Nothing here
imports the lab: the zoo is what a stranger's API looks like.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

from flask import Flask

TWINS = ("vulnerable", "hardened")
APPS = ("catalogue", "wallet", "notes", "forum", "tasks", "members", "listings")
# A race shows as lost updates (PL401) or as a limit overrun (PL403) depending on the interleaving: either proves it.
RACE = ("PL401", "PL403")


@dataclass(frozen=True)
class Planted:
    """A failure of the vulnerable twin, and the rules of which any one reported on `method route` proves it."""

    rules: tuple[str, ...]
    method: str
    route: str
    what: str
    known_miss: str | None = None  # why the current probe cannot prove it yet

    @property
    def label(self) -> str:
        return f"{'/'.join(self.rules)} {self.method} {self.route}"


@dataclass(frozen=True)
class Sound:
    """Something both twins do correctly that looks like a failure: `rule` must never be reported on it."""

    rule: str
    method: str
    route: str
    why: str


@dataclass(frozen=True)
class KnownFalseAlarm:
    """A finding the current probe raises although the twin is correct there: a probe bug, written down."""

    twins: tuple[str, ...]
    rule: str
    method: str
    route: str
    reason: str


@dataclass(frozen=True)
class Backends:
    """Where the zoo's stateful apps keep their data: a PostgreSQL server URL and a DynamoDB endpoint."""

    postgres_url: str
    dynamodb_endpoint: str


@dataclass
class Built:
    """One twin, ready to serve: the app, its identities as the probe's configuration describes them (the
    `[probe.identities]` table of a plumbline.toml, with `${NAME}` for each secret), the secrets' values by
    environment variable name, and what to release after."""

    app: Flask
    identities: dict[str, dict]
    secrets: dict[str, str]
    close: Callable[[], None] = lambda: None


def app_module(name: str) -> ModuleType:
    if name not in APPS:
        raise ValueError(f"unknown zoo app {name!r}; expected one of {', '.join(APPS)}")
    return importlib.import_module(f"{__name__}.{name}")
