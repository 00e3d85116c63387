#!/usr/bin/env python3
"""How fast, how big and how noisy `plumbline scan` is on real Flask + SQLAlchemy code, beside Bandit.

    make bench                      # or: .venv/bin/python bench/scan_speed.py [--repeat N]

1. Fetches a fixed, pinned corpus from PyPI with `pip download` (cached under bench/.corpus/).
2. Scans each code base, then the whole corpus, with `plumbline scan --no-cache` (one process, every rule)
   and with `bandit -r`, each as a child process: wall and CPU seconds, lines/s, peak RSS. Then `--jobs 2`,
   and a warm re-scan from plumbline's cache. Both tools run from compiled bytecode, as after any install
   (see `bytecode_environment`), and CPU seconds stay comparable when other work shares the machine.
3. Prints plumbline's findings on the corpus (counts per rule, a stable sample) and its file errors.
4. Prints PASS/MISS beside each target. Timings are information, never assertions: the script exits 0
   unless something could not run at all (no code base fetched, or plumbline did not run).

Needs only PyPI (through pip) on the network, and only on the first run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS_DIR = HERE / ".corpus"  # git-ignored
DOWNLOADS = CORPUS_DIR / "downloads"
TREES = CORPUS_DIR / "trees"


@dataclass(frozen=True)
class CodeBase:
    name: str  # as on PyPI
    version: str  # pinned: the figures are only comparable run to run on the same code
    wheel: bool = False  # fetch the wheel (pure-Python sources) because PyPI has no sdist of this version
    about: str = ""

    @property
    def slug(self) -> str:
        return f"{self.name}-{self.version}"


# ~270k lines of Python in all (measured with the versions below).
CORPUS = (
    # Indico publishes wheels only since 3.0 (the newest sdist on PyPI is 1.2.2), so `--no-binary :all:`
    # cannot fetch it: its py3-none-any wheel holds the same .py sources, and is what is scanned.
    # 3.2.9 is the newest indico pip will fetch for Python 3.10/3.11 (indico 3.3 requires Python >= 3.12).
    CodeBase("indico", "3.2.9", wheel=True, about="event management; Flask + SQLAlchemy + PostgreSQL"),
    CodeBase("flask-appbuilder", "5.3.0", about="application framework on Flask-SQLAlchemy"),
    CodeBase("flask-admin", "2.2.1", about="admin interface; SQLAlchemy model views"),
    # Flask-Security-Too: since 5.5 its sdists carry the project name `flask-security`.
    CodeBase("flask-security", "5.9.2", about="Flask-Security-Too; SQLAlchemy datastores"),
    CodeBase("flaskbb", "2.0.2", about="forum; Flask + Flask-SQLAlchemy"),
)

REFERENCE_BANDIT_LINES_PER_S = 10_900  # Bandit, one core, over indico (measured elsewhere)
REFERENCE_BANDIT_RSS_MIB = 71
TARGET_WARM_SPEEDUP = 10.0
TARGET_BANDIT_RATIO = 2.0  # plumbline lines/s over Bandit's, on every code base (issue 8); 3x is the aim
AIM_BANDIT_RATIO = 3.0
TARGET_RSS_BYTES = 150 * 1024 * 1024  # issue 8: peak RSS <= 150 MiB
CHILD_TIMEOUT_S = 1800
SAMPLE_PER_RULE = 10
SHOW_ERRORS = 10
MIB = 1024 * 1024


def source_fingerprint() -> dict[str, str]:
    """Hash of each plumbline source file in use: figures taken while they change mix two versions."""
    import hashlib

    try:
        import plumbline
    except ImportError:
        return {}
    package = Path(plumbline.__file__).parent
    return {path.relative_to(package.parent).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(package.rglob("*.py"))}


def short(fingerprint: dict[str, str]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:12]


def load_average() -> str:
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "load average unknown"


def say(text: str = "") -> None:
    print(text, flush=True)


def tool(name: str) -> str | None:
    """The executable in this interpreter's environment (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else shutil.which(name)


# ---- corpus ---------------------------------------------------------------------------------------------


def fetch(base: CodeBase) -> Path | None:
    """The extracted tree of `base`, downloading and extracting it on first use; None if that failed."""
    tree = TREES / base.slug
    if (tree / ".complete").is_file():
        return tree
    target = DOWNLOADS / base.slug
    archives = sorted(p for p in target.glob("*") if p.suffix in (".gz", ".zip", ".whl", ".bz2", ".tgz"))
    if not archives:
        target.mkdir(parents=True, exist_ok=True)
        kind = ["--only-binary", ":all:"] if base.wheel else ["--no-binary", ":all:"]
        command = [sys.executable, "-m", "pip", "download", "--no-deps", *kind, "--disable-pip-version-check",
                   "--quiet", "--dest", str(target), f"{base.name}=={base.version}"]
        say(f"  fetching {base.name}=={base.version} ({'wheel' if base.wheel else 'sdist'}) ...")
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            say(f"  ! {base.slug}: pip download timed out; going on without it")
            return None
        archives = sorted(p for p in target.glob("*") if p.suffix in (".gz", ".zip", ".whl", ".bz2", ".tgz"))
        if done.returncode != 0 or not archives:
            detail = [line for line in (done.stderr or "").splitlines()
                      if line.strip() and "Location 'file:" not in line]
            say(f"  ! {base.slug}: pip download failed (exit {done.returncode}); going on without it")
            for line in detail[-4:]:
                say(f"      {line}")
            return None
    if len(archives) > 1:
        say(f"  ! {base.slug}: several archives in {target}, using {archives[0].name}")
    temporary = Path(tempfile.mkdtemp(prefix=f".{base.slug}-", dir=TREES.parent if TREES.exists() else CORPUS_DIR))
    try:
        extract(archives[0], temporary)
        (temporary / ".complete").write_text(archives[0].name + "\n")
        if tree.exists():
            shutil.rmtree(tree)
        TREES.mkdir(parents=True, exist_ok=True)
        temporary.rename(tree)
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        say(f"  ! {base.slug}: cannot extract {archives[0].name}: {exc}; going on without it")
        shutil.rmtree(temporary, ignore_errors=True)
        return None
    return tree


def extract(archive: Path, into: Path) -> None:
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as handle:
            handle.extractall(into)  # zipfile refuses paths outside `into`
        return
    with tarfile.open(archive) as handle:
        if hasattr(tarfile, "data_filter"):
            handle.extractall(into, filter="data")
        else:  # Python < 3.10.12/3.11.4: refuse absolute and escaping names ourselves
            members = [m for m in handle.getmembers()
                       if not m.name.startswith("/") and ".." not in Path(m.name).parts and (m.isfile() or m.isdir())]
            handle.extractall(into, members=members)


@dataclass
class Size:
    files: int = 0  # .py files
    lines: int = 0  # newlines in them, as `wc -l`
    sql_files: int = 0

    def __iadd__(self, other: "Size") -> "Size":
        self.files += other.files
        self.lines += other.lines
        self.sql_files += other.sql_files
        return self


def measure_size(tree: Path) -> Size:
    """Every .py file under the tree, tests and all: both tools are pointed at the whole tree."""
    size = Size()
    for directory, subdirectories, names in os.walk(tree):
        subdirectories[:] = [d for d in subdirectories if d != ".plumbline-cache"]
        for name in names:
            if name.endswith(".py"):
                size.files += 1
                with open(os.path.join(directory, name), "rb") as handle:
                    size.lines += handle.read().count(b"\n")
            elif name.endswith(".sql"):
                size.sql_files += 1
    return size


# ---- running a tool ---------------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    peak_rss: int | None  # bytes; the largest single process of the child's tree
    cpu: float | None  # user + system seconds of the child and what it waited for
    returncode: int
    stderr: str
    output: dict | None = None
    timed_out: bool = False


def run_child(argv: list[str], output: Path | None) -> Run:
    """Run one tool; wall time, CPU time and the peak RSS of that child alone.

    Peak RSS comes from `os.wait4(pid)`, which hands back the rusage of exactly that child (with whatever it
    waited for itself folded in, ru_maxrss being a max, not a sum), with no extra process in the way.
    `getrusage(RUSAGE_CHILDREN)` cannot be used: its ru_maxrss is the max over all children reaped so far,
    so a small run after a big one would report the big one's peak. `/usr/bin/time -v` gives the same number
    (checked here: within 1 MiB) but is not on every machine and its output has to be parsed. For `--jobs 2`
    the figure is the largest of the parent and its workers, not their total.
    """
    if output is not None and output.exists():
        output.unlink()
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                                 start_new_session=True, env=CHILD_ENVIRONMENT)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(CHILD_TIMEOUT_S, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    run = Run(wall=wall, peak_rss=usage.ru_maxrss * scale, cpu=usage.ru_utime + usage.ru_stime,
              returncode=child.returncode, stderr=stderr, timed_out=timed_out.is_set())
    if output is not None and output.is_file():
        try:
            run.output = json.loads(output.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            run.output = None
    return run


def bytecode_environment(scratch: Path) -> dict[str, str]:
    """The children's environment: Python may write bytecode, into a folder of the bench's own.

    With PYTHONDONTWRITEBYTECODE set (some machines set it everywhere), an editable install of plumbline is
    compiled from source at every start, about 0.2 s, while Bandit's installed modules have their bytecode
    from pip: every plumbline run would pay a cost no installed tool pays. `PYTHONPYCACHEPREFIX` keeps the
    bytecode out of the source tree and out of the virtualenv."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPYCACHEPREFIX"] = str(scratch / "bytecode")
    return environment


def warm_up(tree: Path, scratch: Path) -> None:
    """Run both tools once, untimed, so that every module they import is compiled before the timed runs."""
    out = scratch / "warm-up.json"
    run_child(plumbline_argv([tree], out), out)
    if BANDIT:
        run_child(bandit_argv([tree], out), out)


def plumbline_argv(paths: list[Path], output: Path, *, jobs: int = 1, cache: bool = False) -> list[str]:
    argv = [PLUMBLINE, "scan", *map(str, paths), "--select", "ALL", "--format", "json", "--output", str(output),
            "--jobs", str(jobs)]
    return argv + ([] if cache else ["--no-cache"])


def bandit_argv(paths: list[Path], output: Path) -> list[str]:
    return [BANDIT, "-r", *map(str, paths), "-f", "json", "-o", str(output), "-q"]


def ok(run: Run) -> bool:
    """Both tools exit 1 when they find something; anything else, or no report, means the run failed."""
    return not run.timed_out and run.returncode in (0, 1) and run.output is not None


def best_of(repeat: int, argv: list[str], output: Path) -> Run:
    runs = [run_child(argv, output) for _ in range(repeat)]
    good = [r for r in runs if r.output is not None and r.returncode in (0, 1)]
    if not good:
        return runs[-1]
    best = min(good, key=lambda r: r.wall)
    best.peak_rss = max(r.peak_rss or 0 for r in good)
    best.cpu = min(r.cpu or 0.0 for r in good)
    return best


PLUMBLINE_STATS = re.compile(r"(\d+) findings; (\d+) files, (\d+) lines in ([\d.]+) s")


def plumbline_stats(run: Run) -> tuple[int, int, float] | None:
    """(files, lines, seconds) as plumbline reports them on stderr (.py and .sql files it read)."""
    match = PLUMBLINE_STATS.search(run.stderr)
    return (int(match[2]), int(match[3]), float(match[4])) if match else None


# ---- printing ------------------------------------------------------------------------------------------------


def mib(value: int | None) -> str:
    return "?" if value is None else f"{value / MIB:.1f}"


def failure(run: Run) -> str:
    if run.timed_out:
        return f"timed out after {CHILD_TIMEOUT_S} s"
    tail = " | ".join(line.strip() for line in run.stderr.strip().splitlines()[-3:])
    return f"exit {run.returncode}{', no report' if run.output is None else ''}: {tail or '(no stderr)'}"


@dataclass
class Row:
    label: str
    tool: str
    size: Size
    run: Run

    @property
    def good(self) -> bool:
        return ok(self.run)

    @property
    def rate(self) -> float:
        return self.size.lines / self.run.wall if self.run.wall > 0 else 0.0

    @property
    def cpu_rate(self) -> float:
        """Lines per CPU second: what other work on the machine skews least."""
        return self.size.lines / self.run.cpu if self.run.cpu else 0.0


HEADER = (f"{'code base':<24} {'tool':<22} {'files':>6} {'lines':>8} {'wall s':>8} {'lines/s':>9} {'cpu s':>7} "
          f"{'lines/cpu-s':>11} {'peak RSS MiB':>13}")


def print_header() -> None:
    say(HEADER)
    say("-" * len(HEADER))


def print_row(row: Row) -> None:
    if row.good:
        figures = (f"{row.run.wall:8.2f} {row.rate:9,.0f} {row.run.cpu or 0:7.2f} {row.cpu_rate:11,.0f} "
                   f"{mib(row.run.peak_rss):>13}")
    else:
        figures = f"{'FAILED':>8}  {failure(row.run)[:120]}"
    say(f"{row.label:<24} {row.tool:<22} {row.size.files:>6} {row.size.lines:>8} {figures}")


def print_table(rows: list[Row]) -> None:
    print_header()
    for row in rows:
        print_row(row)


def pairs(rows: list[Row]) -> list[tuple[Row, Row]]:
    """(plumbline, bandit) for each code base scanned alone where both runs worked."""
    found = []
    for ours in rows:
        if ours.tool == "plumbline" and ours.label != "corpus" and ours.good:
            theirs = next((r for r in rows if r.label == ours.label and r.tool == "bandit" and r.good), None)
            if theirs is not None:
                found.append((ours, theirs))
    return found


def speedup(ours: Row, theirs: Row) -> str:
    """How many times plumbline's lines/s Bandit's are, by wall time and by CPU time."""
    cpu = f"{ours.cpu_rate / theirs.cpu_rate:.2f}x" if ours.cpu_rate and theirs.cpu_rate else "?"
    return f"{ours.rate / theirs.rate:.2f}x wall, {cpu} CPU"


def verdict(passed: bool | None) -> str:
    return "n/a " if passed is None else ("PASS" if passed else "MISS")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run each timed scan N times and keep the fastest (default 1)")
    parser.add_argument("--profile", action="store_true",
                        help="time plumbline file by file even when it is not slower than bandit")
    args = parser.parse_args()
    repeat = max(1, args.repeat)
    started = time.perf_counter()

    global PLUMBLINE, BANDIT
    PLUMBLINE, BANDIT = tool("plumbline"), tool("bandit")
    if PLUMBLINE is None:
        say("plumbline is not installed in this environment (make bench installs it); nothing to measure")
        return 2
    version = subprocess.run([PLUMBLINE, "--version"], capture_output=True, text=True).stdout.strip()
    bandit_version = (subprocess.run([BANDIT, "--version"], capture_output=True, text=True).stdout.splitlines()
                      or ["?"])[0] if BANDIT else "not installed (pip install -e '.[bench]')"
    say(f"# plumbline scan speed — {version}; bandit: {bandit_version}")
    fingerprint = source_fingerprint()
    say(f"# Python {sys.version.split()[0]} on {sys.platform}, {os.cpu_count()} CPUs, {load_average()} "
        f"before starting (other work on the machine skews every figure)")
    say(f"# each timed scan run {repeat}x, fastest kept; plumbline sources {short(fingerprint)}")
    say()

    # 1. corpus
    say("## Corpus (pinned, from PyPI; cached in bench/.corpus/)")
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    trees: list[tuple[CodeBase, Path, Size]] = []
    for base in CORPUS:
        tree = fetch(base)
        if tree is not None:
            trees.append((base, tree, measure_size(tree)))
    if not trees:
        say("no code base could be fetched; nothing to measure")
        return 2
    total = Size()
    for _, _, size in trees:
        total += size
    say(f"{'code base':<24} {'fetched as':<8} {'.py files':>9} {'.py lines':>10} {'.sql':>5}  about")
    for base, tree, size in trees:
        say(f"{base.slug:<24} {'wheel' if base.wheel else 'sdist':<8} {size.files:>9} {size.lines:>10,} "
            f"{size.sql_files:>5}  {base.about}")
    say(f"{'corpus':<24} {'':<8} {total.files:>9} {total.lines:>10,} {total.sql_files:>5}  "
        f"{len(trees)} of {len(CORPUS)} code bases")
    missing = [b.slug for b in CORPUS if b.slug not in {t[0].slug for t in trees}]
    if missing:
        say(f"missing (fetch failed): {', '.join(missing)}")
    say()

    # 2. speed
    say("## Speed: cold, one process, every rule (plumbline --no-cache --jobs 1) vs bandit -r")
    scratch = Path(tempfile.mkdtemp(prefix="plumbline-bench-"))
    os.environ["PLUMBLINE_CACHE_DIR"] = str(scratch / "cache")  # the runs' cache, emptied before the warm one
    global CHILD_ENVIRONMENT
    CHILD_ENVIRONMENT = bytecode_environment(scratch)
    smallest = min(trees, key=lambda item: item[2].lines)
    say(f"(both tools run from bytecode compiled by an untimed warm-up run on {smallest[0].slug})")
    warm_up(smallest[1], scratch)
    rows: list[Row] = []
    per_base_findings: dict[str, int] = {}
    print_header()
    try:
        for base, tree, size in trees:
            out = scratch / f"{base.slug}.plumbline.json"
            row = Row(base.slug, "plumbline", size, best_of(repeat, plumbline_argv([tree], out), out))
            rows.append(row)
            if row.good:
                per_base_findings[base.slug] = len(row.run.output.get("findings", []))
            if BANDIT:
                out = scratch / f"{base.slug}.bandit.json"
                rows.append(Row(base.slug, "bandit", size, best_of(repeat, bandit_argv([tree], out), out)))
            for row in rows[-2 if BANDIT else -1:]:
                print_row(row)
        paths = [tree for _, tree, _ in trees]
        corpus_out = scratch / "corpus.plumbline.json"
        cold = Row("corpus", "plumbline", total, best_of(repeat, plumbline_argv(paths, corpus_out), corpus_out))
        corpus_document = cold.run.output
        rows.append(cold)
        bandit_corpus = None
        if BANDIT:
            out = scratch / "corpus.bandit.json"
            bandit_corpus = Row("corpus", "bandit", total, best_of(repeat, bandit_argv(paths, out), out))
            rows.append(bandit_corpus)
        out = scratch / "corpus.jobs2.json"
        for row in rows[-2 if BANDIT else -1:]:
            print_row(row)
        jobs2 = Row("corpus", "plumbline --jobs 2", total,
                    best_of(repeat, plumbline_argv(paths, out, jobs=2), out))
        rows.append(jobs2)
        # Warm: empty the cache, fill it with one run (timed too), then time the re-scan that reads it.
        shutil.rmtree(os.environ["PLUMBLINE_CACHE_DIR"], ignore_errors=True)
        out = scratch / "corpus.fill.json"
        fill = Row("corpus", "plumbline cache fill", total, run_child(plumbline_argv(paths, out, cache=True), out))
        rows.append(fill)
        out = scratch / "corpus.warm.json"
        warm = Row("corpus", "plumbline warm", total, best_of(repeat, plumbline_argv(paths, out, cache=True), out))
        rows.append(warm)
        say()
        say("## All runs")
        print_table(rows)
        say()
        stats = plumbline_stats(cold.run) if cold.good else None
        if stats:
            say(f"plumbline's own count over the corpus: {stats[0]} files, {stats[1]:,} lines (.py and .sql; "
                f"it skips build/, dist/, venv/ ... by default), {stats[2]:.2f} s inside the process")
        warm_stats = PLUMBLINE_STATS.search(warm.run.stderr)
        if warm_stats:
            cached = re.search(r"\((\d+) from cache\)", warm.run.stderr)
            hits = int(cached[1]) if cached else 0
            say(f"warm re-scan read {hits} of {warm_stats[2]} files from the cache")
            if hits < int(warm_stats[2]):
                say("! the warm re-scan missed the cache for some files although nothing changed in between "
                    "(or plumbline's sources changed during the bench: see the end)")
        if warm.good and warm.run.output is not None and corpus_document is not None:
            same = warm.run.output.get("findings") == corpus_document.get("findings")
            say(f"warm re-scan findings identical to the cold scan's: {'yes' if same else 'NO'}")
        if jobs2.good and corpus_document is not None:
            same = jobs2.run.output.get("findings") == corpus_document.get("findings")
            say(f"--jobs 2 findings identical to --jobs 1: {'yes' if same else 'NO'}")
        say()

        say("## Ratios")
        if cold.good and bandit_corpus is not None and bandit_corpus.good:
            say(f"plumbline / bandit lines/s over the corpus: {speedup(cold, bandit_corpus)}")
            for ours, theirs in pairs(rows):
                say(f"  {ours.label:<24} {speedup(ours, theirs)}")
        if cold.good and jobs2.good:
            say(f"--jobs 2 / --jobs 1 speedup (cold): {cold.run.wall / jobs2.run.wall:.2f}x")
        if cold.good and warm.good:
            say(f"warm / cold speedup: {cold.run.wall / warm.run.wall:.1f}x "
                f"(cold {cold.run.wall:.2f} s without cache, warm {warm.run.wall:.2f} s)")
        if bandit_corpus is not None and bandit_corpus.good:
            document = bandit_corpus.run.output
            say(f"bandit: {len(document.get('results', []))} issues, {len(document.get('errors', []))} files "
                f"it could not scan")
        say()

        # 3. findings
        say("## plumbline findings on the corpus (cold single-process scan)")
        if corpus_document is None:
            say(f"no report: {failure(cold.run)}")
        else:
            print_findings(corpus_document, per_base_findings, [t[0].slug for t in trees])
        say()

        slower = [r.label for r in rows if r.tool == "plumbline" and r.good and any(
            b.label == r.label and b.tool == "bandit" and b.good and b.rate > r.rate for b in rows)]
        if slower or args.profile:
            say(f"## Where plumbline spends its time ({'slower than bandit on ' + ', '.join(slower) if slower else '--profile'})")
            profile(paths)
            say()

        # 4. targets
        say("## Targets")
        bandit_rate = bandit_corpus.rate if bandit_corpus is not None and bandit_corpus.good else None
        say(f"reference: Bandit ~{REFERENCE_BANDIT_LINES_PER_S:,} lines/s single core over indico, "
            f"{REFERENCE_BANDIT_RSS_MIB} MiB peak RSS")
        indico = next((r for r in rows if r.label.startswith("indico-") and r.tool == "plumbline" and r.good), None)
        if cold.good:
            passed = cold.rate >= bandit_rate if bandit_rate else None
            against = f"bandit here {bandit_rate:,.0f} lines/s" if bandit_rate else "bandit did not run here"
            say(f"  {verdict(passed)}  cold single-process throughput >= Bandit's: plumbline {cold.rate:,.0f} "
                f"lines/s vs {against}")
            say(f"  {verdict(cold.rate >= REFERENCE_BANDIT_LINES_PER_S)}  ... and >= the reference "
                f"{REFERENCE_BANDIT_LINES_PER_S:,} lines/s")
            indico_bandit = next((r for r in rows if r.label.startswith("indico-") and r.tool == "bandit"
                                  and r.good), None)
            if indico and indico_bandit:
                say(f"  {verdict(indico.rate >= indico_bandit.rate)}  ... on indico alone: {indico.rate:,.0f} vs "
                    f"{indico_bandit.rate:,.0f} lines/s")
        else:
            say(f"  n/a   cold single-process throughput: the scan failed ({failure(cold.run)})")
        for ours, theirs in pairs(rows):
            say(f"  {verdict(ours.rate >= TARGET_BANDIT_RATIO * theirs.rate)}  >= {TARGET_BANDIT_RATIO:.0f}x Bandit's "
                f"lines/s (aim {AIM_BANDIT_RATIO:.0f}x) on {ours.label}: {speedup(ours, theirs)}")
        if cold.good and warm.good:
            warm_speedup = cold.run.wall / warm.run.wall
            say(f"  {verdict(warm_speedup >= TARGET_WARM_SPEEDUP)}  warm re-scan >= {TARGET_WARM_SPEEDUP:.0f}x faster "
                f"than cold: {warm_speedup:.1f}x")
        else:
            say("  n/a   warm re-scan: a scan failed")
        if cold.good and cold.run.peak_rss:
            peak = cold.run.peak_rss
            say(f"  {verdict(peak <= TARGET_RSS_BYTES)}  peak RSS <= {TARGET_RSS_BYTES / MIB:.0f} MiB, cold "
                f"single-process scan of the corpus: {peak / MIB:.1f} MiB ({peak / 1e6:.0f} MB)")
        if indico and indico.run.peak_rss:
            peak = indico.run.peak_rss
            say(f"  {verdict(peak <= TARGET_RSS_BYTES)}  ... on indico alone (the reference's code base): "
                f"{peak / MIB:.1f} MiB ({peak / 1e6:.0f} MB)")
        peaks = [r for r in rows if r.tool.startswith("plumbline") and r.good and r.run.peak_rss]
        if peaks:
            top = max(peaks, key=lambda r: r.run.peak_rss)
            say(f"        largest plumbline process in any run: {top.run.peak_rss / MIB:.1f} MiB "
                f"({top.label}, {top.tool})")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    say()
    now = source_fingerprint()
    if now != fingerprint:
        changed = sorted(name for name in set(now) | set(fingerprint) if now.get(name) != fingerprint.get(name))
        say(f"! plumbline's sources changed while the bench ran ({', '.join(changed[:8])}"
            f"{', ...' if len(changed) > 8 else ''}): the figures may mix two versions; run it again")
    say(f"# bench took {time.perf_counter() - started:.0f} s; {load_average()} at the end")
    return 0 if any(r.good for r in rows if r.tool == "plumbline") else 1


def print_findings(document: dict, per_base: dict[str, int], slugs: list[str]) -> None:
    findings = document.get("findings", [])
    errors = document.get("errors", [])
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for finding in findings:
        by_rule[finding["rule_id"]].append(finding)
    say(f"{len(findings)} findings in all; per code base (corpus scan / scanned alone):")
    per_corpus = Counter(_base_of(f, slugs) for f in findings)
    for slug in slugs:
        alone = per_base.get(slug)
        say(f"  {slug:<24} {per_corpus.get(slug, 0):>5} / {'?' if alone is None else alone}")
    kinds = Counter(_kind_of(f["location"].get("path", "")) for f in findings)
    say("by kind of file (from the path): " + ", ".join(f"{kind} {count}" for kind, count in kinds.most_common()))
    say()
    say(f"{'rule':<7} {'name':<26} {'severity':<9} {'count':>6}")
    for rule_id in sorted(by_rule):
        first = by_rule[rule_id][0]
        severities = "/".join(sorted({f["severity"] for f in by_rule[rule_id]}))
        say(f"{rule_id:<7} {first['rule_name']:<26} {severities:<9} {len(by_rule[rule_id]):>6}")
    for rule_id in sorted(by_rule):
        items = sorted(by_rule[rule_id], key=_where)
        say()
        say(f"### {rule_id} {items[0]['rule_name']}: first {min(SAMPLE_PER_RULE, len(items))} of {len(items)} "
            f"by path and line")
        for finding in items[:SAMPLE_PER_RULE]:
            location = finding["location"]
            place = (f"{location['path']}:{location['line']}" if location.get("kind") == "source"
                     else json.dumps(location))
            say(f"  {place}  {rule_id} [{finding['severity']}, {finding['confidence']} confidence] "
                f"{finding['message']}")
    say()
    say(f"files in `errors`: {len(errors)}")
    kinds = Counter(re.sub(r"\(.*", "", e["message"]).strip() for e in errors)
    for kind, count in kinds.most_common():
        say(f"  {count:>5}  {kind}")
    for error in errors[:SHOW_ERRORS]:
        say(f"  {error['target']}: {error['message']}")
    internal = [e for e in errors if "internal error" in e["message"]]
    if internal:
        say(f"internal errors (bugs in plumbline): {len(internal)}")
        for error in internal[:SHOW_ERRORS]:
            say(f"  {error['target']}: {error['message']}")


def profile(paths: list[Path], show: int = 15) -> None:
    """Phases and the slowest files, in this process, through plumbline's internals (which may change)."""
    try:
        from plumbline.rules import matching
        from plumbline.scan import _extract_one, _read, checks
        from plumbline.scan.files import discover, scan_root
        from plumbline.scan.project import Project
    except ImportError as exc:
        say(f"cannot profile: plumbline's internals moved ({exc})")
        return
    import logging

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its "unsupported syntax" warnings, seen in the scans
    root = scan_root(paths)
    started = time.perf_counter()
    files, _ = discover(paths, root)
    listed = time.perf_counter()
    timings, modules = [], []
    for file in files:
        before = time.perf_counter()
        content = _read(file)
        facts, _, _ = _extract_one(content, None)
        timings.append((time.perf_counter() - before, content.lines, file.relative))
        if facts is not None:
            modules.append(facts)
    extracted = time.perf_counter()
    project = Project.build(modules, "auto")
    built = time.perf_counter()
    list(checks.run(project, matching(["ALL"])))
    checked = time.perf_counter()
    say(f"discover {listed - started:.2f} s, read+parse+facts {extracted - listed:.2f} s, project "
        f"{built - extracted:.2f} s, checks {checked - built:.2f} s")
    say(f"slowest {show} files (read+parse+facts):")
    for seconds, lines, relative in sorted(timings, reverse=True)[:show]:
        say(f"  {seconds * 1000:8.1f} ms {lines:>6} lines {lines / seconds:>9,.0f} lines/s  {relative}")


def _where(finding: dict) -> tuple:
    location = finding["location"]
    return (location.get("path", ""), location.get("line", 0), location.get("column", 0), finding["message"])


def _kind_of(path: str) -> str:
    parts = path.lower().split("/")
    name = parts[-1]
    if "migrations" in parts or "alembic" in parts:
        return "migrations"
    if "tests" in parts or "test" in parts or name.startswith("test_") or name.endswith("_test.py"):
        return "tests"
    if "examples" in parts or "example" in parts:
        return "examples"
    return "application"


def _base_of(finding: dict, slugs: list[str]) -> str:
    path = finding["location"].get("path", "")
    head = path.split("/", 1)[0]
    return head if head in slugs else "(elsewhere)"


PLUMBLINE: str | None = None
BANDIT: str | None = None
CHILD_ENVIRONMENT: dict[str, str] | None = None  # None: the bench's own (see bytecode_environment)

if __name__ == "__main__":
    sys.exit(main())
