"""Plain HTTP clients for a running twin, and concurrent calls: how the zoo shows that a planted failure is
real without the probe (each app's `PROOFS`).

A proof is a function `proof(clients) -> str | None`: what broke, or None when the invariant held. It must
break on the vulnerable twin and hold on the hardened one.
"""

from __future__ import annotations

import html
import re
import threading
from typing import Callable, TypeVar

import httpx

T = TypeVar("T")
BURST = 20
SECRET = re.compile(r"\$\{([A-Z0-9_]+)\}")


class Clients:
    """One logged-in `httpx.Client` per identity of a running twin, made from its probe configuration."""

    def __init__(self, url: str, identities: dict[str, dict], secrets: dict[str, str]) -> None:
        self.url = url
        self._identities = identities
        self._secrets = secrets
        self._clients: dict[str, httpx.Client] = {}

    def __getitem__(self, user: str) -> httpx.Client:
        if user not in self._clients:
            self._clients[user] = self._log_in(self._identities[user])
        return self._clients[user]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def _secret(self, text: str) -> str:
        return SECRET.sub(lambda match: self._secrets[match.group(1)], text)

    def _log_in(self, identity: dict) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=60, limits=httpx.Limits(max_connections=BURST))
        if "header" in identity:
            name, _, value = self._secret(identity["header"]).partition(":")
            client.headers[name.strip()] = value.strip()
            return client
        login, csrf = identity["login"], identity["login"]["csrf"]  # the zoo's one login flow: a form with CSRF
        page = client.get(csrf["page"]).text
        token = html.unescape(re.search(rf'name="{csrf["field"]}" value="([^"]*)"', page).group(1))
        body = {key: self._secret(str(value)) for key, value in login["body"].items()}
        client.post(login["path"], data={**body, csrf["field"]: token}).raise_for_status()
        client.headers[csrf["header"]] = token
        return client


def together(call: Callable[[], T], times: int = BURST) -> list[T]:
    """`call()` from `times` threads released at once by a barrier; the results, in no particular order."""
    barrier = threading.Barrier(times)
    results: list[T] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        result = call()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def succeeded(responses: list[httpx.Response]) -> int:
    return sum(response.is_success for response in responses)
