"""What the lab runner needs from an app, and what it hands to scenarios once a twin is serving."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
from flask import Flask


@dataclass
class TwinApp:
    """A built twin: the Flask app, how to release what it holds, and loops to run beside it."""

    app: Flask
    close: Callable[[], None] = lambda: None
    background: list[Callable[[threading.Event], None]] = field(default_factory=list)
    # Handles that scenarios use to look behind the API (a DSN, a DynamoDB config, a stream consumer).
    internals: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunningTwin:
    app_name: str
    twin: str
    url: str
    identities: dict[str, str]
    built: TwinApp

    def client(self, identity: str | None = None, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.identities[identity]}"} if identity else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)
