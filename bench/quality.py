#!/usr/bin/env python3
"""Recall and precision of `plumbline scan` on public Flask apps that people labelled by reading them.

    make bench-quality                          # or: .venv/bin/python bench/quality.py [--json] [--app TEXT ...]
    PLUMBLINE_CORPUS=DIR make bench-quality     # where the repositories' git snapshots are (default /work/.mirror)

For each label file in bench/realworld/apps/ (format: bench/realworld/README.md):
1. finds the git directory of its repository under the corpus folder and exports the pinned commit
   (`git archive`) into a temporary folder;
2. scans the app's `subdir` with `plumbline scan --format json --no-cache` in a child process;
3. matches findings to labels: same path, a rule of the label's class, the finding's line inside the label's span
   (`line` ± 2 when the label has no span).

Prints recall over defect labels (C1–C6, BOLA and the DynamoDB classes D1–D5) and precision over every finding of fully-read apps, per class
and per app, then every miss and false alarm. This is a measurement, not a test: it exits 0 whatever the numbers,
and 2 only on bad input or when no app at all could be measured.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
APPS_DIR = HERE / "realworld" / "apps"
DEFAULT_CORPUS = "/work/.mirror"
SCAN_TIMEOUT_S = 900
DEFAULT_SLACK = 2  # a label without a span accepts findings this many lines above or below it

CLASSES = ("C1", "C2", "C3", "C4", "C5", "C6", "BOLA")  # SQL-side classes; DynamoDB labels add D1, D2, ...
CLASS_PATTERN = re.compile(r"^(C|D)[1-9][0-9]?$|^BOLA$")
# The class each scan rule reports. A rule missing here takes the class its labels give it (see rule_classes).
RULE_CLASS = {
    "PL101": "C6",
    "PL102": "C1",
    "PL103": "C2",
    "PL104": "C3",
    "PL105": "BOLA",
    "PL106": "C5",
    "PL201": "C3",
    "PL202": "C4",
    "PL203": "C4",
    "PL204": "C4",
    "PL301": "D1",
    "PL302": "D2",
    "PL303": "D3",
    "PL304": "D4",
    "PL305": "D5",
}
# The two rule families, measured side by side: SQL (PL1xx/PL2xx) and DynamoDB (PL3xx).
FAMILIES = {"SQL": lambda cls: not cls.startswith("D"), "DynamoDB": lambda cls: cls.startswith("D")}
APP_KEYS = ("repo", "commit", "subdir", "backend", "stack", "python_lines", "fully_read", "read_notes", "labels")
LABEL_KEYS = ("path", "line", "class", "kind", "rule", "reason")


class BadLabelFile(Exception):
    """A label file that cannot be used; the message says which file and why, in one line."""


# ---- labels ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Lines of one file where a finding counts as reporting a label."""

    path: str
    line: int
    first: int
    last: int


@dataclass(frozen=True)
class Label:
    path: str
    line: int
    places: tuple[Place, ...]  # the label's own span first, then its `alt` places (e.g. the migration of a column)
    cls: str
    kind: str  # "defect" or "safe"
    rule: str
    reason: str

    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class App:
    file: Path
    repo: str
    commit: str
    subdir: str
    backend: str
    stack: tuple[str, ...]
    python_lines: int
    fully_read: bool
    labels: tuple[Label, ...]

    @property
    def defects(self) -> list[Label]:
        return [label for label in self.labels if label.kind == "defect"]


def load_place(raw: object, where: str) -> Place:
    """A label's own place, or one of its `alt` places: path, line and an optional [first, last] span."""
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        raise BadLabelFile(f"{where}: a place needs a path")
    line = raw.get("line")
    if not isinstance(line, int) or line < 1:
        raise BadLabelFile(f"{where}: line must be a positive integer, not {line!r}")
    span = raw.get("span", (line - DEFAULT_SLACK, line + DEFAULT_SLACK))
    if not (isinstance(span, (list, tuple)) and len(span) == 2 and all(isinstance(n, int) for n in span)
            and span[0] <= line <= span[1]):
        raise BadLabelFile(f"{where}: span {raw.get('span')!r} must be [first, last] around line {line}")
    return Place(raw["path"], line, span[0], span[1])


def load_label(raw: object, where: str) -> Label:
    if not isinstance(raw, dict) or any(key not in raw for key in LABEL_KEYS):
        raise BadLabelFile(f"{where}: a label needs the keys {', '.join(LABEL_KEYS)}")
    if not isinstance(raw["class"], str) or not CLASS_PATTERN.match(raw["class"]):
        raise BadLabelFile(f"{where}: class {raw['class']!r} is not C1..C6, BOLA or a DynamoDB class D1, D2, ...")
    if raw["kind"] not in ("defect", "safe"):
        raise BadLabelFile(f"{where}: kind must be 'defect' or 'safe', not {raw['kind']!r}")
    alts = raw.get("alt", [])
    if not isinstance(alts, list):
        raise BadLabelFile(f"{where}: alt must be a list of places")
    places = (load_place(raw, where), *(load_place(alt, f"{where} alt {i}") for i, alt in enumerate(alts, 1)))
    return Label(raw["path"], raw["line"], places, raw["class"], raw["kind"], raw["rule"], raw["reason"])


def load_app(file: Path) -> App | None:
    """The app a label file describes; None for a claimed file not labelled yet (no `subdir`, no labels)."""
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BadLabelFile(f"{file.name}: cannot read it as JSON ({error})") from None
    if not isinstance(raw, dict):
        raise BadLabelFile(f"{file.name}: the top level must be an object")
    if "subdir" not in raw and not raw.get("labels"):
        return None
    missing = [key for key in APP_KEYS if key not in raw]
    if missing:
        raise BadLabelFile(f"{file.name}: missing {', '.join(missing)}")
    if not (isinstance(raw["repo"], str) and re.fullmatch(r"[\w.-]+/[\w.-]+", raw["repo"])):
        raise BadLabelFile(f"{file.name}: repo must be owner/name, not {raw['repo']!r}")
    if not (isinstance(raw["commit"], str) and re.fullmatch(r"[0-9a-f]{40}", raw["commit"])):
        raise BadLabelFile(f"{file.name}: commit must be 40 lowercase hex digits, not {raw['commit']!r}")
    labels = tuple(load_label(label, f"{file.name} label {i}") for i, label in enumerate(raw["labels"], 1))
    return App(file, raw["repo"], raw["commit"], raw["subdir"], raw["backend"], tuple(raw["stack"]),
               int(raw["python_lines"]), bool(raw["fully_read"]), labels)


def rule_classes(apps: list[App]) -> dict[str, str]:
    """RULE_CLASS, completed with the class that labels give to rules it does not know (e.g. newer rules)."""
    known = dict(RULE_CLASS)
    for app in apps:
        for label in app.labels:
            known.setdefault(label.rule, label.cls)
    return known


# ---- corpus ---------------------------------------------------------------------------------------------------


def git_dir_in(folder: Path) -> Path | None:
    """The git directory at or under `folder`: bare, a clone with .git, or a snapshot holding repo/ or repo/.git."""
    for candidate in (folder / "repo" / ".git", folder / "repo", folder / ".git", folder):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def find_git_dir(corpus: Path, repo: str) -> Path | None:
    owner, name = repo.split("/", 1)
    for folder in (corpus / f"{owner}+{name}", corpus / f"{owner}__{name}", corpus / owner / name,
                   corpus / f"{owner}+{name}.git", corpus / owner / f"{name}.git"):
        found = git_dir_in(folder)
        if found is not None:
            return found
    return None


def has_commit(git_dir: Path, commit: str) -> bool:
    probe = subprocess.run(["git", f"--git-dir={git_dir}", "cat-file", "-e", f"{commit}^{{commit}}"],
                           capture_output=True)
    return probe.returncode == 0


def safe_member(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """tarfile's `data` filter, skipping (instead of failing on) members it refuses, e.g. links out of the tree."""
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        return None


def export(git_dir: Path, commit: str, dest: Path) -> None:
    """Write the tree of `commit` into `dest`: git archive piped into a tar reader that skips unsafe members."""
    with tempfile.TemporaryFile() as errors:
        archive = subprocess.Popen(["git", f"--git-dir={git_dir}", "archive", "--format=tar", commit],
                                   stdout=subprocess.PIPE, stderr=errors)
        assert archive.stdout is not None
        with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
            tar.extractall(dest, filter=safe_member)
        if archive.wait() != 0:
            errors.seek(0)
            last = errors.read().decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            raise RuntimeError(f"git archive failed: {last[0]}")


# ---- scanning and matching ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """One finding of the scan, reduced to what matching needs."""

    path: str
    line: int
    rule: str
    cls: str
    message: str

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def plumbline_command() -> list[str]:
    beside = Path(sys.executable).parent / "plumbline"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    on_path = shutil.which("plumbline")
    return [on_path] if on_path else [sys.executable, "-m", "plumbline"]


def scan(root: Path, classes: dict[str, str]) -> tuple[list[Found], list[str]]:
    """Findings of `plumbline scan` on `root`, and the tool errors it reported (as one-line texts)."""
    with tempfile.TemporaryDirectory(prefix="plumbline-quality-report-") as out_dir:
        report = Path(out_dir) / "report.json"
        command = [*plumbline_command(), "scan", "--format", "json", "--no-cache", "--output", str(report), str(root)]
        run = subprocess.run(command, capture_output=True, text=True, timeout=SCAN_TIMEOUT_S)
        if run.returncode not in (0, 1, 3) or not report.is_file():
            detail = (run.stderr.strip() or run.stdout.strip()).splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"plumbline scan exited {run.returncode}: {detail[0]}")
        document = json.loads(report.read_text(encoding="utf-8"))
    found = []
    for finding in document["findings"]:
        location = finding["location"]
        if location.get("kind") == "source":
            path, line = location["path"], location["line"]
        else:  # not expected from scan; kept so that it still counts, and shows where it points
            path, line = f"<{location.get('kind')}:{location.get('table') or location.get('route')}>", 0
        rule = finding["rule_id"]
        found.append(Found(path, line, rule, classes.get(rule, "other"), finding["message"]))
    errors = [f"{error.get('kind', '?')}: {error['target']}: {error['message']}" for error in document["errors"]]
    return found, errors


def distance(finding: Found, label: Label) -> int | None:
    """How far `finding` is from `label` in lines when it reports it (same path, a rule of its class, inside one of
    its places); None when it does not report it."""
    if finding.rule != label.rule and finding.cls != label.cls:
        return None
    inside = [abs(finding.line - place.line) for place in label.places
              if finding.path == place.path and place.first <= finding.line <= place.last]
    return min(inside) if inside else None


def best_label(finding: Found, labels: list[Label]) -> int | None:
    """The index of the label `finding` reports, when several could: same rule first, then the nearest line.
    One finding reports one label, so two adjacent columns need two findings."""
    candidates = []
    for i, label in enumerate(labels):
        d = distance(finding, label)
        if d is not None:
            candidates.append((finding.rule != label.rule, d, i))
    return min(candidates)[2] if candidates else None


@dataclass
class AppResult:
    app: App
    error: str = ""  # why the app could not be measured
    seconds: float = 0.0
    tool_errors: list[str] = field(default_factory=list)
    found: list[Label] = field(default_factory=list)  # defect labels some finding reports
    misses: list[Label] = field(default_factory=list)
    true_findings: list[Found] = field(default_factory=list)
    false_alarms: list[tuple[Found, Label | None]] = field(default_factory=list)  # with the safe label it lands on
    unlabelled: list[Found] = field(default_factory=list)  # unmatched findings of apps not fully read

    @property
    def name(self) -> str:
        """owner/name, with the scanned folder when there is one (a repository can hold several labelled apps)."""
        return f"{self.app.repo}:{self.app.subdir}" if self.app.subdir else self.app.repo

    @property
    def measured(self) -> bool:
        return not self.error


def match(app: App, findings: list[Found], result: AppResult) -> None:
    defects = app.defects
    safes = [label for label in app.labels if label.kind == "safe"]
    reported: set[int] = set()
    for finding in findings:
        hit = best_label(finding, defects)
        if hit is not None:
            reported.add(hit)
            result.true_findings.append(finding)
            continue
        on_safe = best_label(finding, safes)
        if app.fully_read or on_safe is not None:
            result.false_alarms.append((finding, safes[on_safe] if on_safe is not None else None))
        else:
            result.unlabelled.append(finding)
    result.found = [label for i, label in enumerate(defects) if i in reported]
    result.misses = [label for i, label in enumerate(defects) if i not in reported]


def measure(app: App, corpus: Path, classes: dict[str, str]) -> AppResult:
    result = AppResult(app)
    git_dir = find_git_dir(corpus, app.repo)
    if git_dir is None:
        owner, name = app.repo.split("/", 1)
        result.error = (f"no git snapshot of {app.repo} under {corpus} (looked for {owner}+{name}/, {owner}__{name}/, "
                        f"{owner}/{name}/); fetch one there (search tool: fetch github:{app.repo}, or "
                        f"git clone --bare <url> {corpus}/{owner}+{name}) or set PLUMBLINE_CORPUS")
        return result
    if not has_commit(git_dir, app.commit):
        result.error = f"the snapshot at {git_dir} lacks commit {app.commit}; fetch a newer snapshot of {app.repo}"
        return result
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="plumbline-quality-") as tree:
        try:
            export(git_dir, app.commit, Path(tree))
            root = Path(tree) / app.subdir
            if not root.is_dir():
                result.error = f"subdir {app.subdir!r} does not exist at commit {app.commit[:12]}"
                return result
            findings, result.tool_errors = scan(root, classes)
        except (RuntimeError, OSError, tarfile.TarError, subprocess.TimeoutExpired, ValueError) as error:
            result.error = f"{type(error).__name__}: {error}"
            return result
    result.seconds = time.perf_counter() - started
    match(app, findings, result)
    return result


# ---- figures --------------------------------------------------------------------------------------------------


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def shown(value: float | None) -> str:
    return "   -" if value is None else f"{value:4.2f}"


@dataclass
class Tally:
    labels: int = 0
    found: int = 0
    true: int = 0  # findings of fully-read apps that report a defect label
    false: int = 0
    named_false: int = 0  # false alarms that land on a `safe` label

    @property
    def findings(self) -> int:
        return self.true + self.false

    @property
    def recall(self) -> float | None:
        return ratio(self.found, self.labels)

    @property
    def precision(self) -> float | None:
        return ratio(self.true, self.true + self.false)

    def add_app(self, result: AppResult, keep: Callable[[str], bool] = lambda cls: True) -> None:
        """Add `result` (restricted to the classes `keep` accepts); only fully-read apps count towards precision."""
        self.labels += sum(1 for label in result.app.defects if keep(label.cls))
        self.found += sum(1 for label in result.found if keep(label.cls))
        if not result.app.fully_read:
            return
        self.true += sum(1 for finding in result.true_findings if keep(finding.cls))
        false = [on_safe for finding, on_safe in result.false_alarms if keep(finding.cls)]
        self.false += len(false)
        self.named_false += sum(1 for on_safe in false if on_safe is not None)

    def as_dict(self) -> dict:
        return {"defect_labels": self.labels, "found": self.found, "recall": self.recall,
                "findings_in_fully_read_apps": self.findings, "true": self.true, "false": self.false,
                "false_on_safe_labels": self.named_false, "precision": self.precision}


def tally(results: list[AppResult], cls: str | None = None, keep: Callable[[str], bool] | None = None) -> Tally:
    """Every measured app, restricted to class `cls` or to the classes `keep` accepts."""
    total = Tally()
    for result in results:
        if result.measured:
            total.add_app(result, keep or (lambda c: cls is None or c == cls))
    return total


def class_rows(results: list[AppResult]) -> dict[str, Tally]:
    """One tally per class: C1–C6 and BOLA always, then any other class that labels or findings use."""
    others = set()
    for result in results:
        others.update(label.cls for label in result.app.labels)
        others.update(finding.cls for finding in result.true_findings)
        others.update(finding.cls for finding, _ in result.false_alarms)
    return {cls: tally(results, cls) for cls in [*CLASSES, *sorted(others - set(CLASSES))]}


# ---- output ---------------------------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]], left: frozenset[int] = frozenset({0})) -> list[str]:
    """Rows as aligned text: the columns in `left` flush left, the others (numbers) flush right."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        cells = (cell.ljust(w) if i in left else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        return "  ".join(cells).rstrip()

    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(row) for row in rows)]


def tally_cells(t: Tally) -> list[str]:
    return [str(t.labels), str(t.found), shown(t.recall), str(t.findings), str(t.true), str(t.false),
            str(t.named_false), shown(t.precision)]


TALLY_HEADER = ["defects", "found", "recall", "findings", "true", "false", "on-safe", "precision"]


def render_text(results: list[AppResult], skipped: list[str]) -> str:
    out: list[str] = []
    measured = [r for r in results if r.measured]
    out.append(f"# plumbline scan on hand-labelled real-world apps — {len(measured)} of {len(results)} apps measured")
    out.append("recall: defect labels some finding reports / defect labels; precision: findings matching a defect "
               "label / all findings, fully-read apps only")
    out.append("")
    out.append("## per class")
    rows = [[cls, *tally_cells(t)] for cls, t in class_rows(results).items()]
    rows += [[f"total {family}", *tally_cells(tally(results, keep=keep))] for family, keep in FAMILIES.items()]
    rows.append(["total", *tally_cells(tally(results))])
    out += table(["class", *TALLY_HEADER], rows)
    out.append("")
    out.append("## per app")
    app_rows = []
    for r in results:
        if r.measured:
            t = Tally()
            t.add_app(r)
            note = ("" if r.app.fully_read else "partly read") + (f" {len(r.tool_errors)} tool errors"
                                                                   if r.tool_errors else "")
            app_rows.append([r.name, str(r.app.python_lines), *tally_cells(t), f"{r.seconds:.1f}s", note.strip()])
        else:
            app_rows.append([r.name, str(r.app.python_lines), *["-"] * len(TALLY_HEADER), "", "NOT MEASURED"])
    header = ["app", "lines", *TALLY_HEADER, "time", "note"]
    out += table(header, app_rows, left=frozenset({0, len(header) - 1}))
    out.append("")
    out.append("## misses and false alarms")
    for r in results:
        if not r.measured:
            out.append(f"### {r.name}: not measured — {r.error}")
            continue
        if not (r.misses or r.false_alarms or r.tool_errors or r.unlabelled):
            out.append(f"### {r.name}: nothing missed, no false alarm")
            continue
        out.append(f"### {r.name} @ {r.app.commit[:12]}")
        for label in r.misses:
            out.append(f"  miss   {label.where()}  {label.rule}/{label.cls}  {label.reason}")
        for finding, on_safe in r.false_alarms:
            why = f"on a safe label: {on_safe.reason}" if on_safe else f"no label; says: {one_line(finding.message)}"
            out.append(f"  false  {finding.where()}  {finding.rule}/{finding.cls}  {why}")
        for finding in r.unlabelled:
            out.append(f"  unlabelled (app partly read)  {finding.where()}  {finding.rule}  {one_line(finding.message)}")
        for error in r.tool_errors:
            out.append(f"  tool error  {error}")
    if skipped:
        out.append("")
        out.append("## label files not used")
        out += [f"  {text}" for text in skipped]
    return "\n".join(out)


def one_line(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def label_dict(label: Label) -> dict:
    own, *alts = label.places
    entry = {"path": label.path, "line": label.line, "span": [own.first, own.last], "class": label.cls,
             "rule": label.rule, "reason": label.reason}
    if alts:
        entry["alt"] = [{"path": alt.path, "span": [alt.first, alt.last]} for alt in alts]
    return entry


def finding_dict(finding: Found) -> dict:
    return {"path": finding.path, "line": finding.line, "rule": finding.rule, "class": finding.cls,
            "message": finding.message}


def render_json(results: list[AppResult], skipped: list[str]) -> str:
    apps = []
    for r in results:
        entry: dict = {"repo": r.name, "commit": r.app.commit, "subdir": r.app.subdir, "measured": r.measured}
        if not r.measured:
            entry["error"] = r.error
        else:
            t = Tally()
            t.add_app(r)
            entry |= {"fully_read": r.app.fully_read, "seconds": round(r.seconds, 2), **t.as_dict(),
                      "misses": [label_dict(label) for label in r.misses],
                      "false_alarms": [finding_dict(f) | {"on_safe_label": label_dict(on) if on else None}
                                       for f, on in r.false_alarms],
                      "unlabelled": [finding_dict(f) for f in r.unlabelled],
                      "tool_errors": r.tool_errors}
        apps.append(entry)
    document = {"classes": {cls: t.as_dict() for cls, t in class_rows(results).items()},
                "families": {family: tally(results, keep=keep).as_dict() for family, keep in FAMILIES.items()},
                "totals": tally(results).as_dict(), "apps": apps, "label_files_not_used": skipped}
    return json.dumps(document, indent=1, ensure_ascii=False)


# ---- main -----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    parser.add_argument("--app", action="append", default=[], metavar="TEXT",
                        help="measure only apps whose owner/name contains TEXT (repeatable)")
    parser.add_argument("--labels", type=Path, default=APPS_DIR, help=f"label files folder (default {APPS_DIR})")
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("PLUMBLINE_CORPUS", DEFAULT_CORPUS)),
                        help="folder of git snapshots (default $PLUMBLINE_CORPUS, else /work/.mirror)")
    args = parser.parse_args(argv)

    files = sorted(args.labels.glob("*.json"))
    if not files:
        print(f"bench/quality.py: no label files in {args.labels}", file=sys.stderr)
        return 2
    if not args.corpus.is_dir():
        print(f"bench/quality.py: the corpus folder {args.corpus} does not exist; fetch the repositories named in "
              f"{args.labels} there, or point PLUMBLINE_CORPUS at the folder that holds them", file=sys.stderr)
        return 2
    apps, skipped = [], []
    for file in files:
        try:
            app = load_app(file)
        except BadLabelFile as error:
            print(f"bench/quality.py: {error}", file=sys.stderr)
            return 2
        if app is None:
            skipped.append(f"{file.name}: claimed, not labelled yet")
        elif not args.app or any(text.lower() in app.repo.lower() for text in args.app):
            apps.append(app)
    if not apps:
        print("bench/quality.py: no labelled app matches --app " + " ".join(args.app), file=sys.stderr)
        return 2

    classes = rule_classes(apps)
    results = []
    for app in apps:
        if not args.json:
            print(f"scanning {app.repo} ...", file=sys.stderr, flush=True)
        results.append(measure(app, args.corpus, classes))
    print(render_json(results, skipped) if args.json else render_text(results, skipped))
    if not any(r.measured for r in results):
        print("bench/quality.py: no app could be measured (see the reasons above)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
