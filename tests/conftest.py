"""Session fixtures: one embedded PostgreSQL, one DynamoDB (moto) and the lab apps, all on loopback."""

from __future__ import annotations

import os

import pytest

from plumbline.lab.backends import EmbeddedDynamoDB, EmbeddedPostgres
from plumbline.lab.runner import Lab


@pytest.fixture(scope="session", autouse=True)
def private_scan_cache(tmp_path_factory):
    """Every scan of the test session, in-process or in a subprocess, caches in a folder of its own."""
    previous = os.environ.get("PLUMBLINE_CACHE_DIR")
    os.environ["PLUMBLINE_CACHE_DIR"] = str(tmp_path_factory.mktemp("scan-cache"))
    yield
    if previous is None:
        os.environ.pop("PLUMBLINE_CACHE_DIR", None)
    else:
        os.environ["PLUMBLINE_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def postgres_url():
    with EmbeddedPostgres() as server:
        yield server.url


@pytest.fixture(scope="session")
def dynamodb_endpoint():
    with EmbeddedDynamoDB() as server:
        yield server.endpoint_url


@pytest.fixture(scope="session")
def bank_lab(postgres_url):
    """Both bank twins, on the session's PostgreSQL through the `--dsn` path."""
    with Lab(dsn=postgres_url, apps=("bank",)) as running:
        yield running.twins["bank"]


@pytest.fixture(scope="session")
def records_lab(dynamodb_endpoint):
    """Both records twins, on the session's DynamoDB through the `--dynamodb-endpoint` path."""
    with Lab(dynamodb_endpoint=dynamodb_endpoint, apps=("records",)) as running:
        yield running.twins["records"]
