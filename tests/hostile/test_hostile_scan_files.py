"""Files a hostile tree can hold in place of source: devices, FIFOs, huge files and symlinks out of the tree.

Each becomes one error with a one-line reason, the scan ends in seconds and the other files' findings are
still reported.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import plumbline
from plumbline.scan import ScanOptions, scan
from plumbline.scan.files import MAX_BYTES, scan_root

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(30)]

SHOP = Path(__file__).parent.parent / "scan" / "corpus" / "psycopg2_shop"


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(SHOP, root)
    return root


def run(*paths: Path):
    return scan(list(paths), ScanOptions(cache=False)).document


def assert_only_error(document, target: str, reason: str, shop_findings) -> None:
    errors = {error.target: error.message for error in document.errors}
    assert list(errors) == [target], errors
    assert reason in errors[target] and "\n" not in errors[target]
    assert where(document.findings) == where(shop_findings), "the other files' findings are all still reported"


def where(findings) -> list[tuple[str, str, int, str]]:
    """Findings by file name, so that scans rooted at different directories compare."""
    return [(f.rule_id, Path(f.location.path).name, f.location.line, f.message) for f in findings]


@pytest.fixture
def shop_findings(tree):
    findings = run(tree).findings
    assert len(findings) >= 5
    return findings


def test_a_symlink_to_dev_zero_is_refused(tree, shop_findings):
    (tree / "zero.py").symlink_to("/dev/zero")
    assert_only_error(run(tree), "zero.py", "outside the scanned tree", shop_findings)


def test_a_device_named_on_the_command_line_is_not_read(tree, shop_findings, tmp_path):
    """Given explicitly, the symlink is followed, and the type of what it points to refuses it."""
    zero = tmp_path / "zero.py"
    zero.symlink_to("/dev/zero")
    document = run(tree, zero)  # reported relative to tmp_path, the common directory
    assert_only_error(document, "zero.py", "a character device, not a regular file", shop_findings)


def test_a_fifo_is_refused_at_once(tree, shop_findings):
    os.mkfifo(tree / "x.py")
    assert_only_error(run(tree), "x.py", "a named pipe (FIFO), not a regular file", shop_findings)


def test_a_file_over_the_limit_is_refused(tree, shop_findings):
    (tree / "huge.py").write_bytes(b"x = 1\n" * (MAX_BYTES // 6 + 1))
    assert_only_error(run(tree), "huge.py", f"larger than {MAX_BYTES // 1024} KiB", shop_findings)


def test_the_limit_holds_on_the_bytes_read_not_the_reported_size(tree, shop_findings, tmp_path):
    """/proc/kallsyms is a regular file whose size is reported as 0 and whose content is megabytes."""
    source = Path("/proc/kallsyms")
    if not os.access(source, os.R_OK) or source.stat().st_size != 0 or len(source.read_bytes()) <= MAX_BYTES:
        pytest.skip("needs a readable /proc/kallsyms larger than the limit that reports size 0")
    lying = tmp_path / "symbols.py"
    lying.symlink_to(source)
    assert_only_error(run(tree, lying), "symbols.py", "larger than", shop_findings)


def test_a_symlink_out_of_the_tree_is_skipped_and_one_inside_is_read(tree, shop_findings, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text((tree / "app.py").read_text())
    (tree / "leak.py").symlink_to(outside / "secret.py")
    (tree / "alias.py").symlink_to(tree / "app.py")
    document = run(tree)
    assert [(e.target, e.message) for e in document.errors] == [
        ("leak.py", "skipped: a symlink to a file outside the scanned tree")]
    assert {f.location.path for f in document.findings} >= {"alias.py", "app.py"}


def test_paths_in_unrelated_trees_are_reported_from_the_current_directory(tree, tmp_path, monkeypatch):
    elsewhere = Path(plumbline.__file__).parent / "lab" / "bank"
    if os.path.commonpath([tree, elsewhere]) != "/":
        pytest.skip("the temporary directory and the package share a parent")
    monkeypatch.chdir(tmp_path)
    assert scan_root([tree, elsewhere]) == tmp_path
    paths = {f.location.path for f in scan([tree, elsewhere], ScanOptions(cache=False)).document.findings}
    assert "tree/app.py" in paths
    assert any(path.startswith(elsewhere.as_posix() + "/") for path in paths), "outside: absolute"
    monkeypatch.chdir(tree)
    assert scan_root([tree / "app.py", tree / "schema.sql"]) == tree
