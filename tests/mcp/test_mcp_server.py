"""`plumbline mcp` driven by the MCP SDK's own client: the server runs as a subprocess on stdio, as an editor
starts it, and every tool is called through the protocol."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import ClassVar

import anyio
import pytest
from flask import Flask, jsonify, request
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from werkzeug.serving import make_server

from plumbline.rules import all_rules, get

SOURCES = Path(__file__).resolve().parents[2] / "src"
CORPUS = Path(__file__).resolve().parents[1] / "scan" / "corpus"
SCENARIO = "psycopg3_bank"  # a scenario app whose every finding is marked in its files, none as a known miss
EXPECT = re.compile(r"(?:#|--)\s*expect:\s*(PL\d{3}(?:\s*,\s*PL\d{3})*)")


@asynccontextmanager
async def connected(*args: str):
    """A client session with a fresh `plumbline mcp ARGS` subprocess, this checkout's sources first."""
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SOURCES), os.environ.get("PYTHONPATH", "")]))
    server = StdioServerParameters(command=sys.executable, args=["-m", "plumbline", "mcp", *args], env=environment)
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def call(args: list[str], tool: str, arguments: dict | None = None):
    """The result of one call of `tool` on a server started with `args`."""

    async def run():
        async with connected(*args) as session:
            return await session.call_tool(tool, arguments or {})

    return anyio.run(run)


def text_of(result) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


def expected_findings(directory: Path) -> set[tuple[str, int, str]]:
    """(path, line, rule) of every `expect:` mark in the scenario's files."""
    marks = set()
    for path in sorted(directory.rglob("*")):
        if path.suffix in (".py", ".sql"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                for rules in EXPECT.findall(line):
                    marks |= {(path.relative_to(directory).as_posix(), number, r.strip()) for r in rules.split(",")}
    return marks


@pytest.fixture()
def project(tmp_path) -> Path:
    """A copy of the scenario app as the server's only root."""
    shutil.copytree(CORPUS / SCENARIO, tmp_path / "app")
    return tmp_path / "app"


@pytest.mark.timeout(60)
def test_lists_the_four_tools_and_says_the_probe_is_passive():
    async def run():
        async with connected("--root", str(CORPUS)) as session:
            return (await session.list_tools()).tools

    tools = {tool.name: tool for tool in anyio.run(run)}
    assert set(tools) == {"scan", "probe", "explain", "rules"}
    assert "refuses active=true" in tools["probe"].description
    assert tools["scan"].annotations.read_only_hint is True
    assert tools["probe"].annotations.read_only_hint is True
    assert set(tools["probe"].input_schema["required"]) == {"base_url", "openapi"}


@pytest.mark.timeout(120)
def test_scan_returns_the_marked_findings_as_a_document_and_a_summary(project):
    result = call(["--root", str(project)], "scan", {"path": "."})
    assert not result.is_error, text_of(result)
    document = result.structured_content
    found = {(f["location"]["path"], f["location"]["line"], f["rule_id"]) for f in document["findings"]}
    assert found == expected_findings(project)
    assert json.loads(result.content[1].text) == document  # the same document as JSON text
    summary = result.content[0].text
    assert f"Found {len(found)} findings" in summary
    first = document["findings"][0]
    assert f"{first['rule_id']} {first['location']['path']}:{first['location']['line']}" in summary


@pytest.mark.timeout(120)
def test_scan_select_and_ignore_narrow_the_rules(project):
    selected = call(["--root", str(project)], "scan", {"path": str(project), "select": ["PL2"], "ignore": ["PL201"]})
    assert not selected.is_error, text_of(selected)
    rules = {f["rule_id"] for f in selected.structured_content["findings"]}
    expected = {rule for _, _, rule in expected_findings(project) if rule.startswith("PL2") and rule != "PL201"}
    assert rules == expected and expected


@pytest.mark.hostile
@pytest.mark.timeout(60)
def test_scan_refuses_missing_paths_paths_outside_the_root_and_unknown_rules(project, tmp_path):
    (tmp_path / "elsewhere.py").write_text("x = 1\n")
    (project / "escape").symlink_to(tmp_path)
    (project / "docs").mkdir()
    (project / "docs" / "notes.txt").write_text("no code here\n")

    async def run():
        async with connected("--root", str(project)) as session:
            return [await session.call_tool("scan", arguments) for arguments in (
                {"path": "no/such/dir"}, {"path": str(tmp_path / "elsewhere.py")}, {"path": "escape"},
                {"path": ".", "select": ["PL999"]}, {"path": ""}, {"path": "docs"})]

    missing, outside, symlinked, unknown, empty, no_code = anyio.run(run)
    assert all(result.is_error for result in (missing, outside, symlinked, unknown, empty, no_code))
    assert "no such file or directory" in text_of(missing)
    assert "outside the folders this server may read" in text_of(outside)
    assert "outside the folders this server may read" in text_of(symlinked)
    assert "no rule matches 'PL999'" in text_of(unknown)
    assert "path is empty" in text_of(empty)
    assert "nothing could be analysed" in text_of(no_code) and "no .py or .sql file" in text_of(no_code)


@pytest.mark.timeout(60)
def test_explain_and_rules_give_the_catalogue():
    async def run():
        async with connected("--root", str(CORPUS)) as session:
            return (await session.call_tool("explain", {"rule_id": "pl101"}),
                    await session.call_tool("explain", {"rule_id": "PL000"}),
                    await session.call_tool("rules"))

    explained, unknown, rules = anyio.run(run)
    assert not explained.is_error and text_of(explained) == get("PL101").documentation()
    assert unknown.is_error and "unknown rule 'PL000'" in text_of(unknown)
    catalogue = rules.structured_content["rules"]
    assert [rule["id"] for rule in catalogue] == [rule.id for rule in all_rules()]
    assert {rule["engine"] for rule in catalogue} == {"scan", "probe", "audit"}
    assert json.loads(text_of(rules)) == catalogue


class ReportsApi:
    """A tiny Flask API on 127.0.0.1 whose spec requires a bearer token that it never checks; it records the
    method of every request it receives."""

    SPEC: ClassVar[dict] = {
        "openapi": "3.0.3",
        "info": {"title": "reports", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {"/reports": {
            "get": {"operationId": "listReports", "responses": {"200": {"description": "the reports"}}},
            "post": {"operationId": "createReport",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["title"],
                         "properties": {"title": {"type": "string", "maxLength": 40}}}}}},
                     "responses": {"201": {"description": "created"}}},
        }},
    }

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.reports = [{"id": 1, "title": "quarterly figures"}]
        app = Flask("reports")

        @app.before_request
        def record():
            if request.path != "/openapi.json":
                self.methods.append(request.method)

        app.add_url_rule("/openapi.json", "spec", lambda: jsonify(self.SPEC))
        app.add_url_rule("/reports", "list", lambda: jsonify(self.reports))

        @app.post("/reports")
        def create():
            self.reports.append({"id": len(self.reports) + 1, **(request.get_json(silent=True) or {})})
            return jsonify(self.reports[-1]), 201

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join()


@pytest.fixture()
def reports_api():
    api = ReportsApi()
    yield api
    api.close()


@pytest.mark.timeout(60)
def test_probe_refuses_active_mode_without_allow_active_and_sends_nothing(reports_api, tmp_path):
    result = call(["--root", str(tmp_path)], "probe",
                  {"base_url": reports_api.url, "openapi": "/openapi.json", "active": True})
    assert result.is_error
    assert "started without --allow-active" in text_of(result)
    assert reports_api.methods == []


@pytest.mark.timeout(120)
def test_passive_probe_reads_only_and_proves_unauthenticated_access(reports_api, tmp_path):
    result = call(["--root", str(tmp_path)], "probe",
                  {"base_url": reports_api.url, "openapi": "/openapi.json", "max_requests": 200})
    assert not result.is_error, text_of(result)
    assert reports_api.methods and set(reports_api.methods) <= {"GET", "HEAD", "OPTIONS"}
    found = {(f["rule_id"], f["location"]["method"], f["location"]["route"])
             for f in result.structured_content["findings"]}
    assert ("PL406", "GET", "/reports") in found
    assert "passive (safe methods only)" in result.content[0].text


@pytest.mark.timeout(120)
def test_active_probe_runs_when_the_server_allows_it(reports_api, tmp_path):
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(ReportsApi.SPEC))
    result = call(["--root", str(tmp_path), "--allow-active"], "probe",
                  {"base_url": reports_api.url, "openapi": "openapi.json", "active": True, "max_requests": 200})
    assert not result.is_error, text_of(result)
    assert "POST" in reports_api.methods
    assert ", active" in result.content[0].text


@pytest.mark.hostile
@pytest.mark.timeout(60)
def test_probe_errors_are_tool_errors_and_the_server_goes_on(reports_api, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-spec.json"
    outside.write_text(json.dumps(ReportsApi.SPEC))
    root = tmp_path / "project"
    root.mkdir()

    async def run():
        async with connected("--root", str(root)) as session:
            results = [await session.call_tool("probe", arguments) for arguments in (
                {"base_url": "ftp://127.0.0.1/", "openapi": "/openapi.json"},
                {"base_url": reports_api.url, "openapi": str(outside)},
                {"base_url": reports_api.url, "openapi": "/missing.json"},
                {"base_url": reports_api.url, "openapi": "/openapi.json", "identities": ["no equals sign"]})]
            return results, await session.call_tool("explain", {"rule_id": "PL406"})

    (bad_url, outside_spec, missing_spec, bad_identity), after = anyio.run(run)
    outside.unlink()
    assert all(result.is_error for result in (bad_url, outside_spec, missing_spec, bad_identity))
    assert "must be an http:// or https:// URL" in text_of(bad_url)
    assert "outside the folders this server may read" in text_of(outside_spec)
    assert "404" in text_of(missing_spec)
    assert "identities: expected NAME=HEADER" in text_of(bad_identity)
    assert not after.is_error  # the same server still answers


@pytest.mark.timeout(60)
def test_mcp_command_without_the_extra_says_how_to_install_it():
    code = "import sys; sys.modules['mcp'] = None; from plumbline.cli import main; main(['mcp'])"
    completed = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=50,
                               env=dict(os.environ, PYTHONPATH=str(SOURCES)), stdin=subprocess.DEVNULL)
    assert completed.returncode == 2
    assert "pip install 'plumbline[mcp]'" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.timeout(60)
def test_mcp_command_refuses_to_start_in_the_file_system_root_without_root():
    completed = subprocess.run([sys.executable, "-m", "plumbline", "mcp"], check=False, capture_output=True,
                               text=True, cwd="/", timeout=50, env=dict(os.environ, PYTHONPATH=str(SOURCES)), stdin=subprocess.DEVNULL)
    assert completed.returncode == 2
    assert "give the project's folder with --root DIR" in completed.stderr
