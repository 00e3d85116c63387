"""The scan cache against a hostile tree and a damaged cache: nothing runs, nothing is written outside the cache,
and a cached scan finds exactly what a scan without the cache finds.

Every test scans a copy of the lab's bank app (both twins: several findings) with the real cache in a temporary
PLUMBLINE_CACHE_DIR, damages or plants files for real, and compares with `cache=False`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import secrets
import shutil
import sys
import time
from pathlib import Path

import pytest

import plumbline
from plumbline.findings import ToolError
from plumbline.scan import ScanOptions, _extract_one, _read, _tree_key, scan
from plumbline.scan.cache import FORMAT, SECRET_NAME, TREES, Cache, _decoder, _encode, engine_fingerprint
from plumbline.scan.facts import ModuleFacts
from plumbline.scan.files import discover, key_schema_documents, scan_root, spec_documents

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(60)]

BANK = Path(plumbline.__file__).parent / "lab" / "bank"
CORPUS = Path(__file__).parent.parent / "scan" / "corpus"


class Payload:
    """Unpickling it creates `sentinel`: what a crafted cache would make plumbline do."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self):
        return open, (str(self.sentinel), "w")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("PLUMBLINE_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(BANK, root / "bank", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def run(tree: Path, cache: bool = True):
    return scan([tree], ScanOptions(cache=cache))


def uncached(tree: Path) -> str:
    document = run(tree, cache=False).document
    assert len(document.findings) >= 5, "the tree must have findings for the comparison to mean something"
    return document.to_json()


def entries(cache_dir: Path) -> list[Path]:
    return sorted(path for path in (cache_dir / TREES).glob("*/*") if path.is_file())


def tree_entry(cache_dir: Path, tree: Path) -> Path:
    """The file holding the whole result of scanning `tree` as it is now."""
    [entry] = [path for path in entries(cache_dir) if path.name == tree_key(tree)]
    return entry


def tree_key(tree: Path) -> str:
    files, problems = discover([tree], scan_root([tree]))
    errors = [ToolError(engine="scan", target=target, message=message) for target, message in problems]
    root = scan_root([tree])
    documents = spec_documents(root) + key_schema_documents(root)
    return _tree_key([_read(file) for file in files], documents, errors, ScanOptions())


def sign(cache_dir: Path, entry: dict, secret: bytes | None = None) -> bytes:
    """An entry as the cache writes it, signed with the real key unless another is given."""
    body = json.dumps(entry).encode()
    secret = secret or (cache_dir / SECRET_NAME).read_bytes()
    return hmac.new(secret, body, hashlib.sha256).hexdigest().encode() + b"\n" + body


def body(entry: Path) -> dict:
    return json.loads(entry.read_bytes().partition(b"\n")[2])


def test_malicious_pickles_in_the_tree_or_the_cache_never_run(tree, cache_dir, tmp_path):
    sentinel = tmp_path / "pwned"
    payload = pickle.dumps(Payload(sentinel))
    pickle.loads(payload)
    assert sentinel.exists(), "the payload works when unpickled"
    sentinel.unlink()
    expected = uncached(tree)

    # Where the pickle cache used to be, <root>/.plumbline-cache/<engine tag>/<key[:2]>/<key>, computed as it was.
    old_tag = hashlib.sha256(plumbline.__version__.encode())
    for folder in (Path(plumbline.__file__).parent / "scan", Path(plumbline.__file__).parent / "rules"):
        for source in sorted(folder.glob("*.py")):
            old_tag.update(source.read_bytes())
    tag = f"{old_tag.hexdigest()[:16]}-py{sys.version_info.major}{sys.version_info.minor}"
    root = scan_root([tree])
    keys = [_read(file).key for file in discover([tree], root)[0]] + [tree_key(tree)]
    for key in keys:
        for planted in (tree / ".plumbline-cache" / tag / key[:2] / key, tree / ".plumbline-cache" / key):
            planted.parent.mkdir(parents=True, exist_ok=True)
            planted.write_bytes(payload)
    assert run(tree).document.to_json() == expected
    assert not sentinel.exists()

    # Where the new cache keeps them, overwriting every real entry.
    planted = entries(cache_dir)
    assert len(planted) == len(keys)
    for entry in planted:
        entry.write_bytes(payload)
    result = run(tree)
    assert result.document.to_json() == expected and result.cached == 0
    assert not sentinel.exists()
    assert run(tree).cached == len(keys) - 1, "the entries were rewritten: the next scan is served from the cache"


def garble(cache_dir: Path, tree: Path) -> None:
    for entry in entries(cache_dir):
        data = bytearray(entry.read_bytes())
        middle = len(data) // 2
        data[middle:middle + 8] = b"\xff{]\x00\"'0,"
        entry.write_bytes(bytes(data))


def truncate(cache_dir: Path, tree: Path) -> None:
    for entry in entries(cache_dir):
        entry.write_bytes(entry.read_bytes()[: len(entry.read_bytes()) // 2])


def swap_facts(cache_dir: Path, tree: Path) -> None:
    """Each file's facts under the next file's key: every entry valid, each in the wrong place."""
    facts = [entry for entry in entries(cache_dir) if not entry.name.startswith("tree-")]
    contents = [entry.read_bytes() for entry in facts]
    for entry, data in zip(facts, contents[1:] + contents[:1]):
        entry.write_bytes(data)


def swap_tree_and_facts(cache_dir: Path, tree: Path) -> None:
    whole = tree_entry(cache_dir, tree)
    facts = next(entry for entry in entries(cache_dir) if not entry.name.startswith("tree-"))
    whole_data, facts_data = whole.read_bytes(), facts.read_bytes()
    whole.write_bytes(facts_data)
    facts.write_bytes(whole_data)


def scanned_clean_tree(tree: Path) -> Path:
    """A tree without findings beside `tree`, scanned with the cache."""
    clean = tree.parent / "clean"
    clean.mkdir(exist_ok=True)
    (clean / "app.py").write_text("x = 1\n")
    assert run(clean).document.findings == ()
    return clean


def clean_result_of_another_tree(cache_dir: Path, tree: Path) -> None:
    """The valid, signed result of a tree without findings, put where this tree's result is."""
    tree_entry(cache_dir, tree).write_bytes(tree_entry(cache_dir, scanned_clean_tree(tree)).read_bytes())


def secret_replaced(cache_dir: Path, tree: Path) -> None:
    (cache_dir / SECRET_NAME).write_bytes(secrets.token_bytes(32))


def poison(cache_dir: Path, tree: Path, secret: bytes | None = None, **header) -> None:
    """This tree's result replaced by the clean one: trusted, it would hide every finding (see the control)."""
    entry = {"format": FORMAT, "engine": engine_fingerprint(), "key": tree_key(tree), "kind": "document",
             "value": body(tree_entry(cache_dir, scanned_clean_tree(tree)))["value"], **header}
    tree_entry(cache_dir, tree).write_bytes(sign(cache_dir, entry, secret))


def forged_without_the_secret(cache_dir: Path, tree: Path) -> None:
    poison(cache_dir, tree, secret=secrets.token_bytes(32))


def wrong_format(cache_dir: Path, tree: Path) -> None:
    poison(cache_dir, tree, format=FORMAT + 1)


def wrong_engine(cache_dir: Path, tree: Path) -> None:
    poison(cache_dir, tree, engine="0" * 64)


def wrong_kind(cache_dir: Path, tree: Path) -> None:
    poison(cache_dir, tree, kind="facts")


def wrong_types(cache_dir: Path, tree: Path) -> None:
    """Validly signed facts whose booleans are text: "false" is true, a cast would hide every injection."""
    def retype(value):
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, dict):
            return {k: retype(v) for k, v in value.items()}
        if isinstance(value, list):
            return [retype(item) for item in value]
        return value

    whole = tree_entry(cache_dir, tree)
    whole.unlink()  # so that the facts are read
    for entry in entries(cache_dir):
        entry.write_bytes(sign(cache_dir, {**body(entry), "value": retype(body(entry)["value"])}))


DAMAGES = [garble, truncate, swap_facts, swap_tree_and_facts, clean_result_of_another_tree, secret_replaced,
           forged_without_the_secret, wrong_format, wrong_engine, wrong_kind, wrong_types]


@pytest.mark.parametrize("damage", DAMAGES, ids=[damage.__name__ for damage in DAMAGES])
def test_damaged_entries_are_ignored_and_recomputed(tree, cache_dir, damage):
    expected = uncached(tree)
    first = run(tree)
    assert first.document.to_json() == expected and first.cached == 0
    assert run(tree).cached == first.files, "served from the cache before the damage"
    damage(cache_dir, tree)
    assert run(tree).document.to_json() == expected
    again = run(tree)
    assert again.document.to_json() == expected and again.cached == first.files, "the entries were rewritten"


def test_control_a_validly_signed_entry_is_trusted(tree, cache_dir):
    """Why the key must stay secret, and proof that the poisoned entries above would change the result."""
    expected = uncached(tree)
    run(tree)
    poison(cache_dir, tree)
    assert run(tree).document.findings == () != json.loads(expected)["findings"]


def test_a_committed_cache_symlink_is_never_written_through(tree, cache_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".gitignore").write_text("keep me\n")
    before = snapshot(elsewhere)
    (tree / ".plumbline-cache").symlink_to(elsewhere, target_is_directory=True)
    tree_before = snapshot(tree)
    run(tree)
    assert run(tree).cached > 0
    assert snapshot(elsewhere) == before
    assert snapshot(tree) == tree_before, "nothing is written into the scanned tree"


def test_symlinks_inside_the_cache_directory_are_not_followed(tree, cache_dir, tmp_path):
    expected = uncached(tree)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run(tree)
    [directory] = (cache_dir / TREES).iterdir()
    whole = tree_entry(cache_dir, tree)
    facts = next(entry for entry in entries(cache_dir) if entry != whole)
    for entry in (whole, facts):  # valid entries, each moved elsewhere and linked back
        decoy = elsewhere / entry.name
        decoy.write_bytes(entry.read_bytes())
        entry.unlink()
        entry.symlink_to(decoy)
    before = snapshot(elsewhere)
    result = run(tree)
    assert result.document.to_json() == expected
    assert result.cached == result.files - 1, "neither linked entry was read"
    assert not whole.is_symlink() and not facts.is_symlink() and facts.is_file(), "the links were replaced"
    assert snapshot(elsewhere) == before

    shutil.rmtree(directory)  # the tree's folder linked to the decoys: valid entries, were it followed
    directory.symlink_to(elsewhere, target_is_directory=True)
    result = run(tree)
    assert result.document.to_json() == expected and result.cached == 0
    assert snapshot(elsewhere) == before


def test_a_symlinked_cache_directory_or_one_in_the_scanned_tree_is_not_used(tree, tmp_path, monkeypatch):
    expected = uncached(tree)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "link"
    link.symlink_to(elsewhere, target_is_directory=True)
    monkeypatch.setenv("PLUMBLINE_CACHE_DIR", str(link))
    assert Cache.open(tree, [tree]) is None
    assert run(tree).document.to_json() == expected
    assert list(elsewhere.iterdir()) == []

    inside = tree / "cache"
    monkeypatch.setenv("PLUMBLINE_CACHE_DIR", str(inside))
    assert Cache.open(tree, [tree]) is None, "a cache inside the scanned tree could be committed"
    assert run(tree).document.to_json() == expected
    assert not inside.exists()


def test_the_secret_is_private_and_an_untrustworthy_one_is_replaced(tree, cache_dir, tmp_path):
    expected = uncached(tree)
    run(tree)
    secret = cache_dir / SECRET_NAME
    assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_bytes()) == 32
    first = secret.read_bytes()
    assert run(tree).cached > 0 and secret.read_bytes() == first, "made once"

    secret.chmod(0o644)  # others could have read it: forge entries
    result = run(tree)
    assert result.document.to_json() == expected and result.cached == 0
    assert secret.stat().st_mode & 0o777 == 0o600 and secret.read_bytes() != first

    current = secret.read_bytes()
    decoy = tmp_path / "decoy.key"  # the valid key, moved and linked back: followed, every entry would verify
    decoy.write_bytes(current)
    decoy.chmod(0o600)
    secret.unlink()
    secret.symlink_to(decoy)
    result = run(tree)
    assert result.document.to_json() == expected and result.cached == 0, "a symlinked key is not read"
    assert not secret.is_symlink() and decoy.read_bytes() == current


def test_eviction_deletes_the_least_recently_used_entries_first(tree, cache_dir):
    run(tree)
    stored = entries(cache_dir)
    total = sum(entry.stat().st_size for entry in stored)
    past = time.time() - 3600
    for age, entry in enumerate(stored):
        os.utime(entry, (past + age, past + age))
    recent = next(entry for entry in stored if not entry.name.startswith("tree-"))
    cache = Cache.open(tree, [tree], budget=total // 2)
    assert cache.get_facts(recent.name) is not None, "reading an entry marks it used"
    cache.evict()
    kept = entries(cache_dir)
    assert sum(entry.stat().st_size for entry in kept) <= total // 2 * 3 // 4
    assert recent in kept
    oldest = [entry for entry in stored if entry != recent][: len(stored) - len(kept)]
    assert not set(oldest) & set(kept), "the least recently used went first"


def test_facts_survive_the_round_trip_through_json():
    """Every fact of the corpus, encoded and decoded, equals the original: the codec loses nothing."""
    count = 0
    root = scan_root([CORPUS])
    for file in discover([CORPUS], root)[0]:
        facts, _, _ = _extract_one(_read(file), None)
        if facts is None:
            continue
        assert _decoder(ModuleFacts)(json.loads(json.dumps(_encode(facts)))) == facts, file.relative
        count += 1
    assert count >= 20
    assert len(engine_fingerprint()) == 64


def snapshot(directory: Path) -> dict[str, bytes | str]:
    """Every path under `directory` (without following symlinks) and its content or link target."""
    found: dict[str, bytes | str] = {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory).as_posix()
        if path.is_symlink():
            found[relative] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[relative] = path.read_bytes()
        else:
            found[relative] = "dir"
    return found
