"""Hostile shapes for what the schema checks learn from the code's writes: a statement text passed to an execute
wrapper that splits into thousands of (empty) statements, a dict gaining thousands of keys before it is spread into
a model, and a model constructor with thousands of required parameters. Each scan must end in seconds, without an
internal error, and still report the nullable column the writes show to be required."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumbline.scan import ScanOptions, scan

pytestmark = pytest.mark.hostile

COUNT = 20_000  # (the dict case took ~10 s at 30,000 keys while each added key copied all the others)


def scan_tree(root: Path, files: dict[str, str]):
    for name, content in files.items():
        (root / name).write_text(content)
    document = scan([root], ScanOptions(cache=False)).document
    assert not document.errors, [f"{e.target}: {e.message}" for e in document.errors]
    return {(f.rule_id, f.location.path, f.location.line) for f in document.findings}


@pytest.mark.timeout(60)
def test_wrapper_text_with_thousands_of_statements(tmp_path):
    # (texts passed to a function are kept up to 20,000 characters: the most statements fit as semicolons)
    statements = "INSERT INTO marks (board_id, n) VALUES (:board_id, 1)" + ";" * 19_000
    found = scan_tree(tmp_path, {
        "schema.sql": "CREATE TABLE boards (id INT PRIMARY KEY);\n"
                      "CREATE TABLE marks (id SERIAL PRIMARY KEY,\n board_id INT REFERENCES boards,\n n INT);\n",
        "app.py": "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n"
                  "app = Flask(__name__)\ndb = SQLAlchemy(app)\n\n"
                  "def run(*args):\n    return db.session.execute(*args)\n\n"
                  f"@app.post('/boards/<int:board_id>')\ndef mark(board_id):\n"
                  f"    run('''{statements}''', {{'board_id': board_id}})\n    db.session.commit()\n",
    })
    assert ("PL202", "schema.sql", 3) in found


@pytest.mark.timeout(60)
def test_dict_gaining_thousands_of_keys_before_a_spread(tmp_path):
    keys = "".join(f"    data['c{n}'] = {n}\n" for n in range(COUNT))
    found = scan_tree(tmp_path, {
        "models.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n\n"
                     "class Board(db.Model):\n    __tablename__ = 'boards'\n"
                     "    id = db.Column(db.Integer, primary_key=True)\n"
                     "class Pin(db.Model):\n    __tablename__ = 'pins'\n"
                     "    id = db.Column(db.Integer, primary_key=True)\n"
                     "    board_id = db.Column(db.Integer, db.ForeignKey('boards.id'))\n",
        "app.py": "from flask import Flask\nimport models\napp = Flask(__name__)\n\n"
                  "@app.post('/boards/<int:board_id>/pins')\ndef pin(board_id):\n"
                  "    data = {'board_id': board_id}\n" + keys +
                  "    models.db.session.add(models.Pin(**data))\n    models.db.session.commit()\n\n"
                  "@app.post('/boards/<int:board_id>/pin')\ndef one_pin(board_id):\n"
                  "    models.db.session.add(models.Pin(board_id=board_id))\n    models.db.session.commit()\n",
    })
    # Past the keys followed, the spread's columns are unknown: it takes nothing from what the plain insert shows.
    assert ("PL202", "models.py", 10) in found


@pytest.mark.timeout(60)
def test_constructor_with_thousands_of_required_parameters(tmp_path):
    params = ", ".join(f"p{n}" for n in range(COUNT))
    assignments = "".join(f"        self.c{n} = p{n}\n" for n in range(COUNT))
    found = scan_tree(tmp_path, {
        "models.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n\n"
                     "class Note(db.Model):\n    __tablename__ = 'notes'\n"
                     "    id = db.Column(db.Integer, primary_key=True)\n"
                     "    c0 = db.Column(db.Text)\n\n"
                     f"    def __init__(self, {params}):\n{assignments}",
    })
    assert ("PL202", "models.py", 7) in found
