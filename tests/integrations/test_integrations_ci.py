"""The GitHub Action (action.yml) and the pre-commit hook (.pre-commit-hooks.yaml): both files are valid for the
tools that read them, and the exact commands they run do what the documentation says on a small tree."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import check_jsonschema
import jsonschema
import pytest
import yaml
from integrations_support import APP, check_sarif, plumbline, write
from pre_commit.clientlib import load_manifest
from pre_commit.commands.run import Classifier, filter_by_include_exclude

import plumbline as package

ROOT = Path(__file__).parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CLEAN = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def plumbline_command(tmp_path_factory) -> str:
    """An executable `plumbline` that runs this checkout's package, as the action's install step provides."""
    folder = tmp_path_factory.mktemp("bin")
    command = folder / "plumbline"
    source = Path(package.__file__).parents[1]
    command.write_text(f'#!/bin/sh\nPYTHONPATH={shlex.quote(str(source))}${{PYTHONPATH:+:$PYTHONPATH}} '
                       f'exec {shlex.quote(sys.executable)} -m plumbline "$@"\n')
    command.chmod(0o755)
    return str(command)


# ---- action.yml ------------------------------------------------------------------------------------------


def test_action_yml_is_a_valid_action_whose_expressions_name_its_inputs_and_steps():
    vendor = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor"
    jsonschema.validate(ACTION, json.loads((vendor / "github-actions.json").read_text()))  # SchemaStore's schema
    assert ACTION["runs"]["using"] == "composite"
    steps = ACTION["runs"]["steps"]
    ids = [step.get("id") for step in steps]
    text = (ROOT / "action.yml").read_text()
    for expression in EXPRESSION.findall(text) + [step["if"] for step in steps if "if" in step]:
        for name in re.findall(r"inputs\.([\w-]+)", expression):
            assert name in ACTION["inputs"], f"{expression}: no input {name}"
        for step_id in re.findall(r"steps\.([\w-]+)\.", expression):
            assert step_id in ids, f"{expression}: no step {step_id}"
    uploads = [step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert [step["with"]["category"] for step in uploads] == ["${{ inputs.category }}-scan",
                                                              "${{ inputs.category }}-probe"]
    assert all(step["shell"] == "bash" for step in steps if "run" in step)


class Workflow:
    """Runs the action's own steps as GitHub does (`bash --noprofile --norc -eo pipefail`), with `${{ }}`
    expressions resolved from the inputs (their defaults unless given) and the outputs of earlier steps. The
    steps GitHub provides (setup-python, upload-sarif) are not run: their conditions and arguments are checked."""

    def __init__(self, workdir: Path, plumbline_command: str, **inputs: str) -> None:
        self.workdir = workdir
        self.inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
        self.inputs.update({name.replace("_", "-"): value for name, value in inputs.items()})
        self.outputs: dict[str, dict[str, str]] = {"install": {"plumbline": plumbline_command},
                                                   "python": {"python-path": sys.executable}}
        self.uploads: list[tuple[str, str]] = []  # the SARIF files upload-sarif would send, and their categories
        self.logs = ""
        self.code = 0

    def value(self, expression: str) -> str:
        kind, _, rest = expression.partition(".")
        if kind == "inputs":
            return self.inputs[rest]
        if kind == "steps":
            step, _, name = rest.partition(".outputs.")
            return self.outputs.get(step, {}).get(name, "")
        if expression == "github.action_path":
            return str(ROOT)
        raise AssertionError(f"unknown expression {expression!r}")

    def resolve(self, text: str) -> str:
        return EXPRESSION.sub(lambda match: self.value(match.group(1)), text)

    def holds(self, condition: str) -> bool:
        """The conditions action.yml uses: always(), and `A == 'x'` / `A != ''` joined by &&."""
        for term in (part.strip() for part in condition.split("&&")):
            if term == "always()":
                continue
            left, operator, right = re.fullmatch(r"([\w.-]+) (==|!=) '([^']*)'", term).groups()
            if (self.value(left) == right) != (operator == "=="):
                return False
        return True

    def run(self) -> "Workflow":
        for step in ACTION["runs"]["steps"]:
            if "if" in step and not self.holds(step["if"]):
                continue
            if "uses" in step:
                if step["uses"].startswith("github/codeql-action/upload-sarif@"):
                    arguments = step["with"]
                    self.uploads.append((self.resolve(arguments["sarif_file"]), self.resolve(arguments["category"])))
                continue
            if step["id"] == "install":  # pip install of this checkout: the command above stands for it
                continue
            self._run(step)
        return self

    def _run(self, step: dict) -> None:
        output = self.workdir.parent / f"output-{step['id']}"
        output.write_text("")
        env = {key: value for key, value in os.environ.items() if not key.startswith("GITHUB_")}
        env.update({key: self.resolve(value) for key, value in step.get("env", {}).items()},
                   GITHUB_OUTPUT=str(output), RUNNER_TEMP=str(self.workdir.parent),
                   PLUMBLINE_CACHE_DIR=str(self.workdir.parent / "cache"))  # not the user's cache
        script = self.workdir.parent / f"step-{step['id']}.sh"
        script.write_text(self.resolve(step["run"]))
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=self.workdir,
                              env=env, capture_output=True, text=True, timeout=120)
        self.logs += done.stdout + done.stderr
        self.outputs[step["id"]] = dict(line.split("=", 1) for line in output.read_text().splitlines())
        self.code = done.returncode
        assert done.returncode == 0 or step["id"] == "verdict", f"step {step['id']} failed: {done.stderr}"


def test_the_action_with_its_defaults_fails_on_findings_and_uploads_the_sarif(tmp_path, plumbline_command):
    tree = write(tmp_path / "repo", {"app.py": APP, "README.md": "shop\n"})
    workflow = Workflow(tree, plumbline_command).run()
    assert workflow.code == 1 and workflow.outputs["verdict"]["exit-code"] == "1"
    assert "::error title=plumbline scan::findings at or above low" in workflow.logs
    assert "app.py:12:12: PL101 [critical]" in workflow.logs, "the findings are in the job's log"
    assert workflow.uploads == [("plumbline.sarif", "plumbline-scan")], "no probe ran: only the scan's report is sent"
    results = check_sarif(json.loads((tree / "plumbline.sarif").read_text()))
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {"app.py"}


def test_the_action_with_a_baseline_and_a_subdirectory(tmp_path, plumbline_command):
    tree = write(tmp_path / "repo", {"services/shop/app.py": APP})
    written = subprocess.run([plumbline_command, "scan", "services", "--write-baseline", ".plumbline-baseline.json",
                              "--no-cache"], cwd=tree, capture_output=True, text=True)
    assert written.returncode == 0, written.stderr
    write(tree, {"services/shop/app.py": "# a new first line\n" + APP})
    workflow = Workflow(tree, plumbline_command, path="services", baseline=".plumbline-baseline.json",
                        sarif="reports/scan.sarif", upload="false")
    (tree / "reports").mkdir()
    workflow.run()
    assert workflow.code == 0 and workflow.uploads == []
    assert check_sarif(json.loads((tree / "reports" / "scan.sarif").read_text())) == []


def test_the_action_probes_a_running_api_and_uploads_both_reports(tmp_path, plumbline_command, api):
    tree = write(tmp_path / "repo", {"app.py": CLEAN})
    workflow = Workflow(tree, plumbline_command, probe_url=api.url, probe_openapi="/openapi.yaml",
                        fail_on="high").run()
    assert workflow.outputs["scan"]["exit-code"] == "0" and workflow.outputs["probe"]["exit-code"] == "1"
    assert workflow.code == 1 and "::error title=plumbline probe::" in workflow.logs
    assert workflow.uploads == [("plumbline.sarif", "plumbline-scan"), ("plumbline-probe.sarif", "plumbline-probe")]
    results = check_sarif(json.loads((tree / "plumbline-probe.sarif").read_text()))
    assert [r["ruleId"] for r in results] == ["PL406"]


def test_the_action_reports_an_unusable_input_as_exit_2(tmp_path, plumbline_command):
    tree = write(tmp_path / "repo", {"README.md": "no code\n"})
    workflow = Workflow(tree, plumbline_command).run()
    assert workflow.code == 2 and "::error title=plumbline scan::nothing could be used" in workflow.logs


# ---- .pre-commit-hooks.yaml --------------------------------------------------------------------------------


def hook_command(tree: Path, changed: list[str], plumbline_command: str) -> subprocess.CompletedProcess:
    """What pre-commit runs in the repository's root when `changed` are staged: the hook's entry and args, then
    the files its filters (files, exclude, types, types_or) select, by pre-commit's own classifier."""
    if not (tree / ".git").exists():
        subprocess.run(["git", "init", "--quiet", str(tree)], check=True)
    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))  # validates the manifest as pre-commit does
    previous = os.getcwd()
    os.chdir(tree)
    try:
        selected = list(Classifier(changed).by_types(filter_by_include_exclude(changed, hook["files"], hook["exclude"]),
                                                     hook["types"], hook["types_or"], hook["exclude_types"]))
    finally:
        os.chdir(previous)
    entry = shlex.split(hook["entry"])
    assert entry[0] == "plumbline" and hook["pass_filenames"] and hook["require_serial"]
    return subprocess.run([plumbline_command, *entry[1:], *hook["args"], *selected], cwd=tree, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PLUMBLINE_CACHE_DIR": str(tree.parent / "c")})


def test_the_hook_scans_the_changed_python_and_sql_files_named_from_the_repository_root(tmp_path, plumbline_command):
    tree = write(tmp_path / "repo", {"shop/app.py": APP, "shop/schema.sql": "CREATE TABLE t (id INT PRIMARY KEY);\n",
                                     "shop/static/app.js": "x = 1;\n", "README.md": "shop\n", "tools/util.py": CLEAN})
    changed = ["shop/app.py", "shop/schema.sql", "shop/static/app.js", "README.md"]
    result = hook_command(tree, changed, plumbline_command)
    assert result.returncode == 1, result.stderr
    assert "shop/app.py:12:12: PL101 [critical]" in result.stdout, "paths read from the repository's root"
    assert "2 files" in result.stdout, "the .py and the .sql, not the .js nor the README"
    assert hook_command(tree, ["tools/util.py", "README.md"], plumbline_command).returncode == 0


def test_files_outside_a_project_root_are_reported_from_their_directory(tmp_path, monkeypatch):
    write(tmp_path, {"shop/app.py": APP, "shop/other.py": CLEAN})
    monkeypatch.chdir(tmp_path)  # no .git, no pyproject.toml: not a project's root (a home directory, say)
    result = plumbline("scan", "shop/app.py", "shop/other.py", "--no-cache")
    assert result.exit_code == 1 and "\napp.py:12:12: PL101" in "\n" + result.stdout


def test_the_hook_honours_per_file_ignores_written_from_the_repository_root(tmp_path, plumbline_command):
    tree = write(tmp_path / "repo", {"shop/app.py": APP, "shop/other.py": CLEAN, "pyproject.toml":
                                     '[tool.plumbline.per-file-ignores]\n"shop/*" = ["PL101", "PL102"]\n'})
    assert hook_command(tree, ["shop/app.py", "shop/other.py"], plumbline_command).returncode == 0
    assert hook_command(tree, ["shop/app.py"], plumbline_command).returncode == 0
    # Scanned as a directory, shop/ is the root and the patterns match nothing: the hook's 0 is the patterns' doing.
    assert plumbline("scan", str(tree / "shop"), "--no-cache").exit_code == 1
