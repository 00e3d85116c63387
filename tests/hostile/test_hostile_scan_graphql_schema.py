"""GraphQL schema files crafted against the scan: whatever a `.graphql` file holds, reading the arguments its fields
require ends in seconds and never raises; a broken schema says nothing, a sound one is still read."""

from __future__ import annotations

import pytest

from plumbline.scan import ScanOptions, scan
from plumbline.scan.models.graphql import MAX_SCHEMA_CHARS, schema_arguments

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(30)]

SOUND = "type Mutation {\n  addPin(board: ID!, note: String): Pin\n}\n"
BIG = MAX_SCHEMA_CHARS - 10

HOSTILE = {
    "one long word": "type Mutation { " + "a" * BIG,
    "long word before a parenthesis": "type Mutation { " + "a" * (BIG // 2) + "(" + "b" * (BIG // 2 - 20),
    "types never opened": "type a " * (BIG // 7),
    "types never closed": "type a {" * (BIG // 8),
    "parentheses never closed": "type Q { " + "f(" * (BIG // 2 - 10),
    "arguments without types": "type Q { f(" + "a:" * (BIG // 2 - 20) + "): X }",
    "unterminated descriptions": '"""' + '"' * 2 + "a" * (BIG - 10),
    "quotes everywhere": '"a' * (BIG // 2),
    "comments only": "#" * BIG,
    "lists never closed": "type Q { f(a: [" + "[" * (BIG - 30) + "): X }",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_schema_arguments_end_quickly_on_crafted_text(name):
    assert isinstance(schema_arguments(HOSTILE[name]), dict)


def test_an_oversized_schema_is_left_unread():
    assert schema_arguments(SOUND + " " * MAX_SCHEMA_CHARS) == {}


def test_a_sound_schema_after_junk_files_is_still_read(tmp_path):
    """A tree with junk `.graphql` files and one sound schema: the scan finishes, the sound schema counts."""
    (tmp_path / "junk.graphql").write_text(HOSTILE["types never closed"][:100_000])
    (tmp_path / "binary.gql").write_bytes(b"type \xff\xfe\x00{" * 1000)
    (tmp_path / "schema.graphql").write_text(SOUND)
    (tmp_path / "models.py").write_text(
        "from flask_sqlalchemy import SQLAlchemy\n"
        "db = SQLAlchemy()\n"
        "class Pin(db.Model):\n"
        "    id = db.Column(db.Integer, primary_key=True)\n"
        "    board = db.Column(db.String(40))\n"
        "    note = db.Column(db.String(200))\n")
    (tmp_path / "app.py").write_text(
        "from ariadne import MutationType\n"
        "from models import Pin, db\n"
        "mutation = MutationType()\n"
        "@mutation.field('addPin')\n"
        "def add_pin(obj, info, board, note=None):\n"
        "    db.session.add(Pin(board=board, note=note))\n"
        "    db.session.commit()\n")
    result = scan([tmp_path], ScanOptions(cache=False))
    assert not result.document.errors
    reported = {(f.rule_id, f.location.line) for f in result.document.findings if f.location.path == "models.py"}
    assert ("PL202", 5) in reported and ("PL202", 6) not in reported
