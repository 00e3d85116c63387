"""What plain objects hold (a service's storage member, lists filled by append, generators) and saves of objects a
helper returns, against hostile source: a member bound to itself, thousands of appends, a generator yielding an
expression thousands of levels deep, `__init__` defaults that are not calls. The file must be analysed (the
unconditional PynamoDB save beside the construct is still reported at its line), with no internal error, in
seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumbline.scan import ScanOptions, scan

pytestmark = pytest.mark.hostile

HEADER = '''from flask import Flask, request
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

app = Flask(__name__)


class Note(Model):
    class Meta:
        table_name = "notes"

    owner = UnicodeAttribute(hash_key=True)
    text = UnicodeAttribute()


@app.post("/notes/<owner>")
def edit(owner):
    note = Note.get(owner)
    note.text = request.json["text"]
    note.save()

'''
DEPTH = 2000


HOSTILE = {
    "a member bound to itself and to the class itself": "class Store:\n    def __init__(self, other=None):\n"
    "        self.other = self.other\n        self.me = Store\n        self.again = Store()\n"
    "    def run(self):\n        return self.again.run()\n",
    "__init__ defaults that are not calls": "class Store:\n    def __init__(self, a=1, *, b=lambda: 0, c=[x for x in ()]):\n"
    "        self.a = a\n        self.b = b\n        self.c = c\n    def run(self):\n        self.a.save()\n",
    "ten thousand appends to one list": "def collect(rows):\n    found = []\n"
    + "".join(f"    found.append(rows[{i}])\n" for i in range(10_000)) + "    return found\n",
    "a generator yielding an expression thousands of levels deep": "def rows(cursor):\n    for row in cursor:\n"
    "        yield " + " + ".join(["row"] * DEPTH) + "\n        yield from cursor\n",
    "a helper's object saved through a chain thousands deep": "def build():\n    return Note('a', text='b')\n\n"
    "def chain():\n    build()" + ".copy()" * 300 + ".save()\n",  # (deeper, Python cannot parse it)
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("code", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_object_construct_is_analysed(tmp_path: Path, code: str):
    (tmp_path / "app.py").write_text(HEADER + code)
    document = scan([tmp_path], ScanOptions(cache=False)).document
    assert [(e.target, e.message) for e in document.errors] == []
    save = HEADER.count("\n") - 1
    assert ("PL303", save) in [(f.rule_id, f.location.line) for f in document.findings]
