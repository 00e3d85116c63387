"""Shared by the integration tests: a small vulnerable Flask tree, the CLI, and the checks a SARIF file must pass."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
from click.testing import CliRunner

from plumbline.cli import main

SARIF_SCHEMA = Path(__file__).parents[1] / "data" / "sarif-2.1.0.json"

# Two defects a scan finds for sure: an SQL injection (PL101) and a lost update (PL102).
APP = '''from flask import Flask, request
from flask_login import login_required
import psycopg

app = Flask(__name__)
conn = psycopg.connect("postgresql://localhost/shop", autocommit=True)


@app.get("/products/search")
def search():
    name = request.args["name"]
    return conn.execute(f"SELECT id FROM products WHERE name = '{name}'").fetchall()


@app.post("/products/<int:product_id>/buy")
@login_required
def buy(product_id):
    row = conn.execute("SELECT stock FROM products WHERE id = %s", (product_id,)).fetchone()
    conn.execute("UPDATE products SET stock = %s WHERE id = %s", (row[0] - 1, product_id))
    return {"ok": True}
'''

# An API whose item reads answer anyone: a passive probe reports unauthenticated access (PL406) on them.
OPENAPI_YAML = '''openapi: 3.0.3
info:
  title: shop
  version: "1"
security:
  - bearer: []
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
paths:
  /items/{item_id}:
    parameters:
      - name: item_id
        in: path
        required: true
        schema:
          type: string
        example: abc
    get:
      operationId: GetItem
      responses:
        "200":
          description: ok
  /health:
    get:
      operationId: Health
      security: []
      responses:
        "200":
          description: ok
'''


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return directory


def plumbline(*args: str):
    """`plumbline ARGS` in this process; the result has exit_code, stdout and stderr."""
    return CliRunner().invoke(main, list(args))


class Api:
    """A local API that answers every GET with 200 and serves OPENAPI_YAML at /openapi.yaml."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                spec = self.path == "/openapi.yaml"
                data = OPENAPI_YAML.encode() if spec else json.dumps({"item_id": "abc", "name": "x"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/yaml" if spec else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def check_sarif(sarif: dict) -> list[dict]:
    """Validate against the official SARIF 2.1.0 schema and GitHub code scanning's documented constraints;
    the results of the one run."""
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()), cls=jsonschema.Draft202012Validator)
    assert sarif["version"] == "2.1.0" and len(sarif["runs"]) == 1
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(rules) <= 25_000 and len(run["results"]) <= 25_000
    for rule in rules:
        assert re.fullmatch(r"PL\d{3}", rule["id"]) and rule["name"]
        assert 0 < len(rule["shortDescription"]["text"]) <= 1024 and 0 < len(rule["fullDescription"]["text"]) <= 1024
        assert rule["help"]["markdown"].startswith("# ") and rule["help"]["text"]
        assert 0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
        assert len(rule["properties"]["tags"]) <= 20
        if "helpUri" in rule:
            parts = urlsplit(rule["helpUri"])
            assert parts.scheme in ("http", "https") and parts.netloc, "helpUri must be an absolute URI"
    ids = [rule["id"] for rule in rules]
    prints = []
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["message"]["text"]
        assert 1 <= len(result["locations"]) <= 10
        for location in result["locations"]:  # GitHub rejects a file with a result lacking any of these
            uri = location["physicalLocation"]["artifactLocation"]["uri"]
            assert uri and not urlsplit(uri).scheme, f"{uri}: GitHub needs a relative URI"
        prints.append(result["partialFingerprints"]["plumbline/v1"])
    assert len(prints) == len(set(prints)), "GitHub keeps one alert per fingerprint"
    bases = run.get("originalUriBaseIds", {})
    for result in run["results"]:
        base = result["locations"][0]["physicalLocation"]["artifactLocation"].get("uriBaseId")
        assert base is None or base in bases
    return run["results"]
