"""The damage the records twin's planted failures leave in its tables, sent as any client sends it, so that an
audit has something to find after a demo run (`plumbline lab-damage --records`, and the tour's audit step).

DynamoDB enforces nothing on an item but its key: the only guard is the handler. So the writes go through the
twin's own API, as one of its identities: a record filed under a partition the client chose (a user that does not
exist), a version sent as a string, a record without a version, and a transfer larger than the balance it debits.
The vulnerable twin stores each of them; the hardened twin's validation and condition expressions refuse each
one (422, 409), which is its fix at work.
"""

from __future__ import annotations

import uuid

import httpx

from plumbline.lab.backends import BackendError
from plumbline.lab.damage import Write

VALID = {"version": 0, "timestamp": "2026-01-01T00:00:00+00:00", "data": {}, "balance": 0}  # both twins take it


def seed_damage(url: str, token: str) -> list[Write]:
    """Send the damaging writes to the records twin at `url` as the identity of `token`; each write as the twin
    answered it. BackendError (one line) when the twin cannot be reached or answers as no records twin does."""
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            return _Seeder(client).run()
    except httpx.HTTPError as exc:
        raise BackendError(f"cannot seed the records twin at {url}: {type(exc).__name__}: {exc}") from None


class _Seeder:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.writes: list[Write] = []

    def run(self) -> list[Write]:
        self._send("mass assignment", "a record filed under a user_id the client chose, of no user", "/records",
                   {**VALID, "user_id": str(uuid.uuid4())})
        self._send("mass assignment", "a record whose version is the string '7'", "/records", {**VALID, "version": "7"})
        self._send("unvalidated input", "a record without a version", "/records",
                   {key: value for key, value in VALID.items() if key != "version"})
        source = self._record({**VALID, "balance": 100})
        target = self._record(VALID)
        self._send("overdraft", "a transfer of 150 from a balance of 100", "/records/transfer",
                   {"source_record_id": source, "target_record_id": target, "amount": 150})
        return self.writes

    def _record(self, body: dict) -> str:
        """A valid record, as both twins create it: its id."""
        response = self.client.post("/records", json=body)
        if response.status_code != 201:
            raise BackendError(f"the twin refused a valid record ({response.status_code}): is it a records twin, and "
                               "the token one of its identities?")
        return response.json()["record_id"]

    def _send(self, race: str, statement: str, path: str, body: dict) -> None:
        response = self.client.post(path, json=body)
        if response.status_code == 401:
            raise BackendError("the twin does not know this token: use one `plumbline lab` printed for it")
        if response.is_success:
            self.writes.append(Write(race, statement))
        else:
            self.writes.append(Write(race, statement, f"the handler: {response.status_code} {_said(response)}".strip()))


def _said(response: httpx.Response) -> str:
    """The error a twin's JSON answer gives, if any."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
