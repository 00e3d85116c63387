"""`plumbline scan` driven with hostile or malformed input, as the installed command runs it.

Every run is a real subprocess of `.venv/bin/plumbline` (or of the same CLI with one of our own functions
made to fail, to provoke an internal error). Exit codes: 0 clean, 1 findings, 2 usage error / nothing
analysed / nothing selected, 3 internal error, 130 interrupted with a partial report (docs/cli.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from interrupt_support import takes_ctrl_c
from plumbline.findings import FindingsDocument
from plumbline.report.text import printable

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(60)]

PLUMBLINE = Path(sys.executable).with_name("plumbline")
SHOP = Path(__file__).parent.parent / "scan" / "corpus" / "psycopg2_shop"
SITE_PACKAGES = next(Path(p) for p in sys.path if p.endswith("site-packages"))

# Terminal controls a hostile tree plants: clear the screen, hide text, set the window title, reverse the line.
HOSTILE = "\x1b[2J\x1b[8m\x1b]0;owned\x07\u202e\x9b31m"


@pytest.fixture(autouse=True)
def no_user_cache(tmp_path, monkeypatch):
    """Runs that use the cache keep it in the test's own folder."""
    monkeypatch.setenv("PLUMBLINE_CACHE_DIR", str(tmp_path / "cache"))


def plumbline(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(PLUMBLINE), *map(str, args)], capture_output=True, text=True, timeout=50,
                          errors="surrogateescape")


def patched_cli(patch: str) -> list[str]:
    """The command that runs the real CLI after `patch` (Python source) has changed one of plumbline's functions."""
    return [sys.executable, "-c", f"import sys\n{patch}\nfrom plumbline.cli import main\n"
                                  "main(args=sys.argv[1:], prog_name='plumbline')\n"]


def with_our_code_broken(patch: str, *args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([*patched_cli(patch), *map(str, args)], capture_output=True, text=True, timeout=50)


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.lower().startswith("error")]


def assert_usage_error(result: subprocess.CompletedProcess, expected: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    lines = error_lines(result)
    assert len(lines) == 1 and expected in lines[0], output


def shop(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SHOP, tmp_path / "shop"))


def clean(tmp_path: Path) -> Path:
    root = tmp_path / "clean"
    root.mkdir()
    (root / "arithmetic.py").write_text("def add(a, b):\n    return a + b\n")
    return root


# ---- malformed configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "expected"), [
    (b"tool = 5\n", "[tool] must be a table, not int"),
    (b"[tool]\nplumbline = 5\n", "[tool.plumbline]: section: Input should be a valid dictionary"),
    (b'[tool.plumbline]\nselect = "PL1"\n', "select: Input should be a valid list"),
    (b'[tool.plumbline]\nselect = ["PL1", 5]\n', "select.1: Input should be a valid string"),
    (b'[tool.plumbline]\nignore = ["PL999"]\n', "no rule matches 'PL999'"),
    (b'[tool.plumbline.per-file-ignores]\n"*" = ["NOPE"]\n', "no rule matches 'NOPE'"),
    (b"[tool.plumbline]\nper-file-ignores = 3\n", "per-file-ignores: Input should be a valid dictionary"),
    (b'[tool.plumbline]\n"fail-on" = 7\n', "fail-on: Input should be"),
    (b"[tool.plumbline\nselect = 1\n", "not valid TOML"),
    (b"[tool.plumbline]\nselect = ['\xff']\n", "not UTF-8"),
    (b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
    (b"# padding\n" * 120_000, "larger than 1024 KiB"),
], ids=["tool-int", "section-int", "select-string", "select-number", "unknown-rule", "unknown-per-file-rule",
        "per-file-int", "fail-on-int", "bad-toml", "not-utf8", "deep-nesting", "too-large"])
def test_a_malformed_pyproject_is_one_line_and_exit_2(tmp_path, content, expected):
    root = shop(tmp_path)
    (root / "pyproject.toml").write_bytes(content)
    result = plumbline("scan", root, "--no-cache")
    assert_usage_error(result, expected)
    assert str(root / "pyproject.toml") in error_lines(result)[0], "the message names the file"


def test_an_unreadable_pyproject_is_one_line_and_exit_2(tmp_path):
    root = shop(tmp_path)
    if os.geteuid() == 0:  # root reads any mode: a file whose read fails for everyone (address 0 is never mapped)
        (root / "pyproject.toml").symlink_to("/proc/self/mem")
    else:
        (root / "pyproject.toml").write_text("[tool.plumbline]\n")
        (root / "pyproject.toml").chmod(0)
    assert_usage_error(plumbline("scan", root, "--no-cache"), "cannot read")


def test_control_characters_in_the_configuration_are_shown_escaped(tmp_path):
    root = shop(tmp_path)
    (root / "pyproject.toml").write_text(f"[tool.plumbline]\n{json.dumps(HOSTILE)} = 1\n")  # TOML reads \u escapes
    result = plumbline("scan", root, "--no-cache")
    assert_usage_error(result, "Extra inputs are not permitted")
    assert "\\x1b[2J" in result.stderr and "\x1b" not in result.stderr and "\u202e" not in result.stderr


# ---- malformed command lines ------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    (("--select", ""), "--select needs rule ids"),
    (("--select", ",,"), "--select needs rule ids"),
    (("--select", "PL1;DROP"), "no rule matches 'PL1;DROP'"),
    (("--select", "PL1\x1b[2J"), "no rule matches 'PL1\\x1b[2J'"),
    (("--ignore", "XX"), "--ignore: no rule matches 'XX'"),
    (("--select", "PL4"), "no scan rule is selected"),
    (("--select", "PL1", "--ignore", "PL1"), "no scan rule is selected"),
    (("--jobs", "0"), "Invalid value for '--jobs'"),
    (("--jobs", "-3"), "Invalid value for '--jobs'"),
    (("--jobs", "many"), "Invalid value for '--jobs'"),
    (("--format", "xml"), "Invalid value for '--format'"),
    (("--fail-on", ""), "Invalid value for '--fail-on'"),
])
def test_malformed_options_are_one_line_and_exit_2(tmp_path, args, expected):
    assert_usage_error(plumbline("scan", shop(tmp_path), "--no-cache", *args), expected)


def test_paths_that_cannot_be_scanned_are_refused_before_any_work(tmp_path):
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.py"
    zero.symlink_to("/dev/zero")
    undecodable = os.fsdecode(bytes(tmp_path) + b"/caf\xe9.py")
    Path(undecodable).write_text("x = 1\n")
    for args, expected in [
        ((), "Missing argument 'PATHS...'"),
        (("",), "PATH is empty"),
        ((tmp_path / "nowhere",), "nowhere: no such file or directory"),
        ((fifo,), "pipe.py: not a directory or a regular file"),
        ((zero,), "zero.py: not a directory or a regular file"),
        (("/dev/null",), "/dev/null: not a directory or a regular file"),
        ((undecodable,), "caf\\xe9.py: the name is not valid UTF-8"),
    ]:
        assert_usage_error(plumbline("scan", *args, "--no-cache"), expected)


@pytest.mark.parametrize(("output", "expected"), [
    ("missing/report.json", "does not exist"),
    (".", "is a directory"),
])
def test_an_unusable_output_is_refused_before_the_scan(tmp_path, output, expected):
    """The scan would take minutes on a large tree: its result must not be lost at the end."""
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)  # scanned, it would make the run fail differently: the --output check must come first
    result = plumbline("scan", fifo, "--format", "json", "--output", tmp_path / output, "--no-cache")
    assert_usage_error(result, expected)
    assert "--output" in error_lines(result)[0]


# ---- exit codes -------------------------------------------------------------------------------------


def test_exit_codes_for_findings_and_a_clean_tree(tmp_path):
    root = shop(tmp_path)
    found = plumbline("scan", root, "--no-cache")
    assert found.returncode == 1 and "Found" in found.stdout
    assert plumbline("scan", root, "--no-cache", "--fail-on", "critical", "--ignore", "PL101").returncode == 0
    assert plumbline("scan", clean(tmp_path), "--no-cache").returncode == 0


def test_a_tree_where_every_file_fails_exits_2_with_its_report(tmp_path):
    root = tmp_path / "broken"
    root.mkdir()
    (root / "syntax.py").write_text("def broken(:\n")
    (root / "binary.py").write_bytes(b"\x00\x01\x02")
    (root / "huge.py").write_text("x = 1\n" * 400_000)
    result = plumbline("scan", root, "--no-cache", "--format", "json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    document = FindingsDocument.from_json(result.stdout)
    assert {error.target for error in document.errors} == {"syntax.py", "binary.py", "huge.py"}
    assert {error.kind for error in document.errors} == {"skipped"}
    assert error_lines(result) == ["error: nothing could be analysed: every file was skipped (the report lists why)"]
    (root / "fine.py").write_text("x = 1\n")
    assert plumbline("scan", root, "--no-cache").returncode == 0, "one file analysed: skipped ones do not count"


def test_a_tree_without_source_exits_2(tmp_path):
    (tmp_path / "README.md").write_text("# nothing to scan\n")
    result = plumbline("scan", tmp_path, "--no-cache")
    assert result.returncode == 2
    assert error_lines(result) == [f"error: nothing could be analysed: no .py or .sql file under {tmp_path}"]


SEARCH = """
from flask import Flask, request
import psycopg

app = Flask(__name__)
conn = psycopg.connect("postgresql://localhost/shop", autocommit=True)


@app.get("/search")
def search():
    return conn.execute(f"SELECT id FROM products WHERE name = '{request.args['name']}'").fetchall()
"""

BREAK_A_CHECK = """
from plumbline.scan import checks
def broken(unit, report):
    raise RuntimeError("injected")
checks.UNIT_CHECKS["PL102"] = broken
"""

BREAK_THE_EXTRACTOR = """
import plumbline.scan
real = plumbline.scan.extract
def extract(tree, source, relative, module):
    if relative == "app.py":
        raise IndexError("injected")
    return real(tree, source, relative, module)
plumbline.scan.extract = extract
"""


def places(findings) -> set[tuple[str, int, str]]:
    return {(f.location.path, f.location.line, f.rule_id) for f in findings}


@pytest.mark.parametrize(("patch", "target", "kept"), [
    (BREAK_A_CHECK, r"(app|search)\.py:\w+", lambda finding: finding.rule_id != "PL102"),
    (BREAK_THE_EXTRACTOR, r"app\.py", lambda finding: finding.location.path == "search.py"),
], ids=["check", "extractor"])
def test_an_internal_error_exits_3_and_keeps_the_other_findings(tmp_path, patch, target, kept):
    root = shop(tmp_path)
    (root / "search.py").write_text(SEARCH)
    complete = FindingsDocument.from_json(plumbline("scan", root, "--no-cache", "--format", "json").stdout)
    assert ("search.py", 11, "PL101") in places(complete.findings)
    result = with_our_code_broken(patch, "scan", root, "--no-cache", "--format", "json")
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    document = FindingsDocument.from_json(result.stdout)
    internal = [error for error in document.errors if error.kind == "internal"]
    assert internal and all(re.fullmatch(target, error.target) and "injected" in error.message for error in internal)
    expected = places(filter(kept, complete.findings))
    assert expected and expected <= places(document.findings), "what could still be analysed is still reported"
    assert any("internal error" in line and "the result may be incomplete" in line for line in error_lines(result))
    text = with_our_code_broken(patch, "scan", root, "--no-cache")
    assert text.returncode == 3 and "internal error" in text.stdout.splitlines()[-1]


# ---- interruption -----------------------------------------------------------------------------------


ANNOUNCE_SCANNING = """
import plumbline.scan
real = plumbline.scan.discover
def discover(*args, **kwargs):
    print("scanning", file=sys.stderr, flush=True)
    return real(*args, **kwargs)
plumbline.scan.discover = discover
"""


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_scan_exits_130_with_a_partial_report(tmp_path, stop):
    """A scan of the whole virtualenv takes minutes; stopped once it has begun, it ends at once, report written."""
    report = tmp_path / "report.json"
    process = subprocess.Popen([*patched_cli(ANNOUNCE_SCANNING), "scan", str(SITE_PACKAGES), "--no-cache",
                                "--format", "json", "--output", str(report)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=takes_ctrl_c)
    try:
        assert process.stderr.readline() == "scanning\n"
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    document = FindingsDocument.from_json(report.read_text())
    assert [error.kind for error in document.errors][-1] == "interrupted"


# ---- terminal escapes in what is printed ------------------------------------------------------------


def test_control_characters_from_the_scanned_tree_are_printed_escaped(tmp_path):
    root = shop(tmp_path)
    app = (root / "app.py").read_text()
    assert app.count("FROM products WHERE name ILIKE") == 1
    (root / "app.py").write_text(app.replace("FROM products WHERE", f"FROM products /* [red]{HOSTILE}[/red] */ WHERE"))
    (root / "app.py").rename(root / f"ev[bold]il{HOSTILE}.py")
    (root / f"bad{HOSTILE}.py").write_text("def broken(:\n")
    for output in (None, tmp_path / "report.txt"):
        result = plumbline("scan", root, "--no-cache", *(("--output", output) if output else ()))
        assert result.returncode == 1, result.stderr
        printed = output.read_text() if output else result.stdout
        for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert raw not in printed + result.stderr
        shown = printable(HOSTILE)
        assert shown == "\\x1b[2J\\x1b[8m\\x1b]0;owned\\x07\\u202e\\x9b31m"
        lines = printed.splitlines()
        assert any(line.startswith(f"ev[bold]il{shown}.py:") and f"[red]{shown}[/red]" in line for line in lines)
        assert any(line.startswith(f"bad{shown}.py: error: cannot parse") for line in lines)
    for output_format in ("json", "sarif"):
        printed = plumbline("scan", root, "--no-cache", "--format", output_format).stdout
        assert not any(raw in printed for raw in ("\x1b", "\x07", "\x9b", "\u202e")), "JSON escapes them all"
        assert any(HOSTILE in text for text in strings(json.loads(printed))), "and keeps the text as it is"


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [text for child in children for text in strings(child)]


def test_printable_keeps_text_and_shows_every_control():
    assert printable("SELECT * FROM t -- ok, déjà vu: 🙂") == "SELECT * FROM t -- ok, déjà vu: 🙂"
    assert printable("a\nb\tc\rd\x00e\x7f\x85") == "a\\nb\\tc\\rd\\x00e\\x7f\\x85"
    assert printable(os.fsdecode(b"caf\xe9")) == "caf\\xe9", "an undecodable byte of a file name is shown as a byte"
    assert printable("\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u200e\u200f\u061c").count("\\u") == 11
    assert json.loads(json.dumps(printable(HOSTILE))) == printable(HOSTILE)


def test_a_file_name_that_is_not_utf8_is_scanned_and_shown_escaped(tmp_path):
    root = shop(tmp_path)
    os.rename(root / "app.py", os.fsdecode(bytes(root) + b"/caf\xe9.py"))
    text = plumbline("scan", root, "--no-cache")
    assert text.returncode == 1 and "Traceback" not in text.stderr
    assert any(line.startswith("caf\\xe9.py:") and "PL101" in line for line in text.stdout.splitlines())
    result = plumbline("scan", root, "--no-cache", "--format", "json", "--output", tmp_path / "report")
    assert result.returncode == 1, result.stderr
    report = (tmp_path / "report").read_bytes().decode("utf-8")
    assert "caf\\udce9.py" in report, "the undecodable byte is written as a JSON escape"
    assert os.fsencode("caf\udce9.py") in [os.fsencode(text) for text in strings(json.loads(report))]
    result = plumbline("scan", root, "--no-cache", "--format", "sarif", "--output", tmp_path / "report")
    assert result.returncode == 1, result.stderr
    assert "caf%E9.py" in strings(json.loads((tmp_path / "report").read_text())), "a SARIF URI percent-encodes the byte"
