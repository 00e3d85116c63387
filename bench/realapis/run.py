#!/usr/bin/env python3
"""Run `plumbline probe --active` against public Flask APIs nobody here wrote, and compare with what reading found.

    make bench-realapis ARGS="--app conduit --reports /tmp/r"
    .venv/bin/python bench/realapis/run.py [--app TEXT]... [--json] [--reports DIR]
    PLUMBLINE_CORPUS=DIR make bench-realapis     # where the repositories' git snapshots are (default /work/.mirror)

For each app of apps.json (format: README.md beside this file):
1. exports the pinned commit's `subdir` from its git snapshot into a temporary folder;
2. creates (once, then reuses) a virtualenv with the app's packages from PyPI;
3. runs the app's own setup scripts if any (`prepare`), then starts it on a free 127.0.0.1 port (Werkzeug,
   threaded), creating its tables first when asked (`create_all`);
4. obtains two identities through the app's own register/login calls (or, with --probe-logs-in, writes them as a
   probe configuration and lets the probe log in, where the configuration can say how);
5. runs the probe with both identities, `--active`, JSON output;
6. matches findings to the failures found by reading (same rule, same `METHOD /route`).

A failure marked `"reproduced": false` is in the code but could not be made to happen here by hand (e.g. a race
that SQLite serializes); it counts as found when the probe reports it, and is listed as latent, not missed, otherwise.
Prints, per app, what was found, what was missed (with the probe's own coverage notes for that operation, which say
why) and every finding that matches no failure (a false alarm, or a failure the reader missed: read the code).
A measurement, not a test: exit 0 whatever the numbers; 2 on a malformed apps.json, an unknown --app, or when no
app could be measured. Only 127.0.0.1 and the package index are contacted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from quality import find_git_dir, has_commit, plumbline_command, safe_member  # bench/quality.py

APPS_FILE = HERE / "apps.json"
DEFAULT_CORPUS = "/work/.mirror"
VENV_CACHE = Path(os.environ.get("PLUMBLINE_REALAPIS_VENVS", Path(tempfile.gettempdir()) / "plumbline-realapis"))
START_TIMEOUT_S = 60
PROBE_TIMEOUT_S = 600
APP_KEYS = ("name", "repo", "commit", "subdir", "packages", "app", "spec", "identities", "obtain", "header",
            "failures", "negatives")

# Started by the app's virtualenv python: import the app, create its tables if asked, serve it on one port.
LAUNCHER = """
import importlib, sys
module, attr, create_all, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, '.')
app = getattr(importlib.import_module(module), attr)
if create_all:
    db_module, db_attr = create_all.split(':')
    with app.app_context():
        getattr(importlib.import_module(db_module), db_attr).create_all()
app.run(host='127.0.0.1', port=port, threaded=True, use_reloader=False, debug=False)
"""


class BadAppsFile(Exception):
    pass


@dataclass
class Outcome:
    """What one app's run gave: matched failures, misses with the probe's coverage notes, unmatched findings."""

    name: str
    repo: str
    commit: str
    measured: bool = False
    reason: str = ""
    found: list[dict] = field(default_factory=list)
    missed: list[dict] = field(default_factory=list)
    latent: list[dict] = field(default_factory=list)
    false_alarms: list[dict] = field(default_factory=list)
    unlabelled: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests_summary: str = ""
    login: str = "logged in by this script (--identity)"
    coverage: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# ---- apps.json ------------------------------------------------------------------------------------------------


def load_apps() -> list[dict]:
    try:
        apps = json.loads(APPS_FILE.read_text())["apps"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BadAppsFile(f"{APPS_FILE}: {error}") from None
    for app in apps:
        missing = [key for key in APP_KEYS if key not in app]
        if missing:
            raise BadAppsFile(f"{APPS_FILE}: app {app.get('name', '?')} lacks {', '.join(missing)}")
    return apps


# ---- preparing and starting an app ----------------------------------------------------------------------------


def export_subdir(git_dir: Path, commit: str, subdir: str, dest: Path) -> Path:
    """The pinned tree of `subdir` only (a repository may hold large blobs elsewhere that a snapshot lacks)."""
    import tarfile

    command = ["git", f"--git-dir={git_dir}", "archive", "--format=tar", commit]
    if subdir:
        command += ["--", subdir]
    with tempfile.TemporaryFile() as errors:
        archive = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        assert archive.stdout is not None
        with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
            tar.extractall(dest, filter=safe_member)
        if archive.wait() != 0:
            errors.seek(0)
            raise RuntimeError(f"git archive failed: {errors.read().decode(errors='replace').strip()[-300:]}")
    return dest / subdir if subdir else dest


def virtualenv(packages: list[str]) -> Path:
    """A virtualenv holding `packages`, made once per package list and reused."""
    key = hashlib.sha256("\n".join(packages).encode()).hexdigest()[:16]
    venv = VENV_CACHE / key
    python = venv / "bin" / "python"
    if (venv / ".ready").is_file():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              *packages], capture_output=True, text=True, check=False)
    if install.returncode != 0:
        raise RuntimeError(f"pip install failed: {install.stderr.strip()[-400:]}")
    (venv / ".ready").write_text("\n".join(packages) + "\n")
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(app: dict, root: Path) -> dict[str, str]:
    return {**os.environ, **{name: value.replace("{workdir}", str(root)) for name, value in app.get("env", {}).items()}}


def prepare(app: dict, python: Path, root: Path) -> None:
    """Run the app's own setup scripts (e.g. one that creates tables and seeds a catalogue) before it starts."""
    for script in app.get("prepare", []):
        done = subprocess.run([str(python), script], cwd=root, env=app_environment(app, root), capture_output=True,
                              text=True, timeout=START_TIMEOUT_S, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{script} failed ({done.returncode}): {done.stderr.strip()[-400:]}")


def start(app: dict, python: Path, root: Path, port: int, log: Path) -> subprocess.Popen:
    module, attr = app["app"].split(":")
    env = app_environment(app, root)
    with open(log, "wb") as out:
        process = subprocess.Popen([str(python), "-c", LAUNCHER, module, attr, app.get("create_all", ""), str(port)],
                                   cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited ({process.returncode}): {log.read_text(errors='replace')[-400:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return process
        except urllib.error.HTTPError:
            return process  # any HTTP answer means it serves
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"the app did not answer on port {port} within {START_TIMEOUT_S} s")


def stop(process: subprocess.Popen) -> None:
    """Stop the app we started: its own process group, by id."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# ---- identities -----------------------------------------------------------------------------------------------


def filled(value: object, user: str) -> object:
    if isinstance(value, str):
        return value.replace("{user}", user)
    if isinstance(value, dict):
        return {key: filled(item, user) for key, item in value.items()}
    if isinstance(value, list):
        return [filled(item, user) for item in value]
    return value


def pointer(document: object, path: str) -> object:
    for part in path.strip("/").split("/"):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def obtain_identity(base: str, app: dict, user: str) -> str:
    """Run the app's register/login requests for `user`; the token of the step that names one goes in the header."""
    token = None
    for step in app["obtain"]:
        body = json.dumps(filled(step["json"], user)).encode()
        request = urllib.request.Request(base + step["path"], data=body, method=step["method"],
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                reply = json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{step['method']} {step['path']} for {user}: HTTP {error.code}") from None
        if "token" in step:
            token = pointer(reply, step["token"])
    if not isinstance(token, str):
        raise TypeError(f"no token (a string) for {user}")
    return app["header"].replace("{token}", token)


# ---- probing and matching -------------------------------------------------------------------------------------


def login_config(app: dict) -> str:
    """The app's identities as a plumbline.toml `[probe]` section, so that the probe registers and logs in itself.

    Raises ValueError, naming what the configuration cannot say, for an app it does not fit.
    """
    scheme, _, rest = app["header"].removeprefix("Authorization: ").partition(" ")
    if not app["header"].startswith("Authorization: ") or rest != "{token}":
        raise ValueError(f"the token is sent as '{app['header']}', which `send` cannot express")
    lines = []
    for name, user in app["identities"].items():
        lines.append(f"[probe.identities.{name}]")
        for step in app["obtain"]:
            body = filled(step["json"], user)
            kind = "login" if "token" in step and ("login" in step["path"] or len(app["obtain"]) > 1) else "register"
            lines.append(f'{kind} = {{ path = {json.dumps(step["path"])}, method = {json.dumps(step["method"])}, '
                         f"body = {toml_inline(body)} }}")
            if "token" in step:
                lines.append(f'token = {{ json = {json.dumps(step["token"])} }}')
        lines += [f'send = {{ as = "bearer", scheme = {json.dumps(scheme)} }}', ""]
    return "\n".join(lines)


def toml_inline(value: object) -> str:
    """A JSON value as a TOML inline value (tables nest as inline tables)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(key)} = {toml_inline(item)}" for key, item in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_inline(item) for item in value) + "]"
    if value is None:
        raise ValueError("a null in a login body, which TOML cannot write")
    return json.dumps(value)


def probe(base: str, app: dict, credentials: list[str], output: Path) -> tuple[dict, str]:
    """Run the probe from `output`'s folder (so that no plumbline.toml above the caller's directory is read)."""
    spec = app["spec"] if app["spec"].startswith("/") else str(HERE / app["spec"])
    command = [*plumbline_command(), "probe", base, "--openapi", spec, "--active", "--format", "json",
               "--output", str(output.resolve()), *credentials]
    output.unlink(missing_ok=True)  # a report kept from an earlier run must not pass for this one
    run = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False,
                         cwd=output.parent)
    if not output.is_file():
        raise RuntimeError(f"the probe wrote no report (exit {run.returncode}): {run.stderr.strip()[-400:]}")
    summary = next((line for line in run.stdout.splitlines() + run.stderr.splitlines() if "requests in" in line), "")
    return json.loads(output.read_text()), summary.strip()


def operation_of(finding: dict) -> str:
    location = finding.get("location") or {}
    return f"{location.get('method', '?')} {location.get('route', '?')}"


def rules_of(entry: dict) -> set[str]:
    return {entry["rule"], *entry.get("also", [])}


def why_missed(failure: dict, coverage: list[dict]) -> list[str]:
    """The probe's coverage notes for the failure's operation and rules: what ran there, or why it was skipped."""
    def described(entry: dict) -> str:
        return f"{entry['check']}: {entry['status']}" + (f" ({entry['note']})" if entry.get("note") else "")

    here = [entry for entry in coverage if entry.get("operation") == failure["operation"]]
    notes = [described(entry) for entry in here if rules_of(failure) & set(entry.get("rules", []))]
    if notes:
        return notes
    others = ", ".join(described(entry) for entry in here) or "none"
    return [f"no check of {'/'.join(sorted(rules_of(failure)))} considered this operation (other checks: {others})"]


def match(app: dict, document: dict, outcome: Outcome) -> None:
    findings = document.get("findings", [])
    coverage = document.get("coverage", [])
    claimed: set[int] = set()
    for failure in app["failures"]:
        hits = [index for index, finding in enumerate(findings)
                if finding["rule_id"] in rules_of(failure) and operation_of(finding) == failure["operation"]]
        claimed.update(hits)
        entry = {"id": failure["id"], "rule": failure["rule"], "operation": failure["operation"]}
        if hits:
            outcome.found.append({**entry, "reported_as": sorted({findings[i]["rule_id"] for i in hits})})
        elif failure.get("reproduced", True):
            outcome.missed.append({**entry, "what": failure["what"], "probe_says": why_missed(failure, coverage)})
        else:
            outcome.latent.append({**entry, "note": failure.get("note", "")})
    for index, finding in enumerate(findings):
        if index in claimed:
            continue
        shown = {"rule": finding["rule_id"], "operation": operation_of(finding), "message": finding["message"]}
        negative = next((n for n in app["negatives"]
                         if n["rule"] == finding["rule_id"] and n["operation"] == operation_of(finding)), None)
        if negative is not None:
            outcome.false_alarms.append({**shown, "why_safe": negative["why"]})
        else:
            outcome.unlabelled.append(shown)
    outcome.errors = [error["message"] for error in document.get("errors", [])]
    for entry in coverage:
        key = entry["status"] + (f": {entry['note']}" if entry.get("note") else "")
        outcome.coverage[key] = outcome.coverage.get(key, 0) + 1


def measure(app: dict, corpus: Path, reports: Path | None, probe_logs_in: bool) -> Outcome:
    outcome = Outcome(app["name"], app["repo"], app["commit"])
    git_dir = find_git_dir(corpus, app["repo"])
    if git_dir is None or not has_commit(git_dir, app["commit"]):
        outcome.reason = f"no snapshot with {app['commit'][:12]} in {corpus} (fetch github:{app['repo']})"
        return outcome
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"realapi-{app['name']}-") as temporary:
        work = Path(temporary)
        process = None
        try:
            root = export_subdir(git_dir, app["commit"], app["subdir"], work / "src")
            python = virtualenv(app["packages"])
            prepare(app, python, root)
            port = free_port()
            process = start(app, python, root, port, work / "app.log")
            base = f"http://127.0.0.1:{port}"
            credentials = []
            if probe_logs_in:
                try:
                    (work / "login.toml").write_text(login_config(app))
                    credentials = ["--config", str(work / "login.toml")]
                    outcome.login = "the probe registered and logged in (--config)"
                except ValueError as why:
                    outcome.login = f"logged in by this script: {why}"
            if not credentials:
                for name, user in app["identities"].items():
                    credentials += ["--identity", f"{name}={obtain_identity(base, app, user)}"]
            report = (reports / f"{app['name']}.json") if reports else work / "report.json"
            document, outcome.requests_summary = probe(base, app, credentials, report)
            match(app, document, outcome)
            outcome.measured = True
        except (RuntimeError, OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError) as error:
            outcome.reason = f"{type(error).__name__}: {error}"
        finally:
            if process is not None:
                stop(process)
    outcome.seconds = time.monotonic() - began
    return outcome


# ---- output ---------------------------------------------------------------------------------------------------


def render(outcomes: list[Outcome]) -> str:
    lines = []
    rows = [["app", "failures", "found", "missed", "latent", "false alarms", "unlabelled", "time"]]
    for o in outcomes:
        if not o.measured:
            rows.append([o.name, "NOT MEASURED", "", "", "", "", "", ""])
            continue
        total = len(o.found) + len(o.missed)
        rows.append([o.name, str(total), str(len(o.found)), str(len(o.missed)), str(len(o.latent)),
                     str(len(o.false_alarms)),
                     str(len(o.unlabelled)), f"{o.seconds:.0f} s"])
    measured = [o for o in outcomes if o.measured]
    if len(measured) > 1:
        sums = [sum(len(o.found) + len(o.missed) for o in measured)] + [
            sum(len(getattr(o, part)) for o in measured)
            for part in ("found", "missed", "latent", "false_alarms", "unlabelled")]
        rows.append(["all", *map(str, sums), f"{sum(o.seconds for o in measured):.0f} s"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    for o in outcomes:
        lines += ["", f"== {o.name}  {o.repo}@{o.commit[:12]}"]
        if not o.measured:
            lines.append(f"   NOT MEASURED: {o.reason}")
            continue
        lines.append(f"   probe: {o.requests_summary}; {o.login}")
        lines += [f"   found   {f['id']}: {f['operation']} as {', '.join(f['reported_as'])}" for f in o.found]
        for m in o.missed:
            lines.append(f"   MISSED  {m['id']} ({m['rule']}) {m['operation']}: {m['what']}")
            lines += [f"           probe: {note}" for note in m["probe_says"]]
        lines += [f"   latent  {f['id']} ({f['rule']}) {f['operation']}: {f['note']}" for f in o.latent]
        lines += [f"   FALSE   {f['rule']} {f['operation']}: {f['message']}  [safe: {f['why_safe']}]"
                  for f in o.false_alarms]
        lines += [f"   UNLABELLED {u['rule']} {u['operation']}: {u['message']}" for u in o.unlabelled]
        lines += [f"   error   {error}" for error in o.errors]
        lines.append("   coverage: " + "; ".join(f"{count} {key}" for key, count in sorted(o.coverage.items())))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", action="append", default=[], help="only apps whose name or repo contains this")
    parser.add_argument("--json", action="store_true", help="one JSON document instead of text")
    parser.add_argument("--reports", type=Path, help="keep each app's probe report here, as NAME.json")
    parser.add_argument("--probe-logs-in", action="store_true",
                        help="let the probe register and log in itself (--config) where the configuration fits")
    options = parser.parse_args(argv)
    corpus = Path(os.environ.get("PLUMBLINE_CORPUS", DEFAULT_CORPUS))
    try:
        apps = load_apps()
    except BadAppsFile as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if options.app:
        apps = [a for a in apps if any(text.lower() in (a["name"] + a["repo"]).lower() for text in options.app)]
        if not apps:
            print(f"error: no app matches {', '.join(options.app)}", file=sys.stderr)
            return 2
    if not corpus.is_dir():
        print(f"error: corpus folder {corpus} does not exist (set PLUMBLINE_CORPUS)", file=sys.stderr)
        return 2
    if options.reports:
        options.reports.mkdir(parents=True, exist_ok=True)
    outcomes = [measure(app, corpus, options.reports, options.probe_logs_in) for app in apps]
    if options.json:
        print(json.dumps([o.__dict__ for o in outcomes], indent=2))
    else:
        print(render(outcomes))
    return 0 if any(o.measured for o in outcomes) else 2


if __name__ == "__main__":
    sys.exit(main())
