"""The integrations tests' fixture; their helpers are in integrations_support.py (a name of its own: another
directory's conftest would shadow `from conftest import` when both are collected)."""

import pytest
from integrations_support import Api


@pytest.fixture
def api():
    server = Api()
    yield server
    server.close()
