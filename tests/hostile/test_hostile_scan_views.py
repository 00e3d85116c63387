"""Views registered through a project's own helper (Flask's `register_api(view, endpoint, url)` idiom), and rows
reached through relationships and properties, against hostile source: a URL rule built thousands of levels deep,
a helper called thousands of times, odd arguments. The file must be analysed (the SQL injection beside the
construct is still reported at its line), with no internal error, in seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumbline.scan import ScanOptions, scan

pytestmark = pytest.mark.hostile

HEADER = '''from flask import Blueprint, request
from flask.views import MethodView
import psycopg

bp = Blueprint("api", __name__)
conn = psycopg.connect("postgresql://localhost/shop")


class ItemAPI(MethodView):
    def get(self, item_id):
        return conn.execute(f"SELECT name FROM items WHERE id = {item_id}").fetchone()

'''
DEPTH = 2000


def helper(rule: str, rules: int = 1) -> str:
    body = "".join(f"    bp.add_url_rule({rule}, view_func=view_func, methods=['GET'])\n" for _ in range(rules))
    return f"def register_api(view, endpoint, url, pk='item_id'):\n    view_func = view.as_view(endpoint)\n{body}\n"


HOSTILE = {
    "a rule concatenated thousands of levels deep": helper(" + ".join(["url"] + ["'/x'"] * DEPTH))
    + "register_api(ItemAPI, 'items', '/items')\n",
    "a rule formatted with more holes than values": helper("'%s/<%s>/%s' % (url, pk)")
    + "register_api(ItemAPI, 'items', '/items')\n",
    "a rule with a %-format that is not %s": helper("'%d/<%s>' % (url, pk)")
    + "register_api(ItemAPI, 'items', '/items')\n",
    "starred and keyword-spread arguments": helper("url + '/<int:item_id>'")
    + "register_api(*VIEWS, **OPTIONS)\nregister_api(ItemAPI, *REST)\n",
    "a helper of 200 rules called 2,000 times": helper("url + '/<int:item_id>'", rules=200)
    + "".join(f"register_api(ItemAPI, 'items{i}', '/items{i}')\n" for i in range(2000)),
    "a loop over an attribute chain thousands deep": "def walk(order):\n    for line in order" + ".lines" * DEPTH
    + ":\n        line.count += 1\n",
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("code", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_registration_or_row_access_is_analysed(tmp_path: Path, code: str):
    (tmp_path / "app.py").write_text(HEADER + code)
    document = scan([tmp_path], ScanOptions(cache=False)).document
    assert [(e.target, e.message) for e in document.errors] == []
    injection = HEADER.count("\n") - 1
    assert [(f.rule_id, f.location.line) for f in document.findings if f.rule_id == "PL101"] == [("PL101", injection)]
