"""The parsed-data cache: content-addressed, ignored when damaged, off when asked, and never
a different answer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import medref
from medref import reference as refmod


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEDREF_CACHE_DIR", str(tmp_path))
    refmod._cache.clear()
    yield tmp_path
    refmod._cache.clear()


def _load() -> refmod.Reference:
    refmod._cache.clear()
    return refmod.load_reference()


def test_a_cached_load_gives_the_same_reference(cache: Path) -> None:
    cold = _load()
    files = list(cache.glob("data-*.json"))
    assert len(files) == 1 and cold.info.sha256[:32] in files[0].name
    warm = _load()
    assert dict(warm.names()) == dict(cold.names())
    assert dict(warm.entries) == dict(cold.entries)
    assert {k: warm.name_info(k) for k in warm.names()} == {
        k: cold.name_info(k) for k in cold.names()}
    lines = ["Percocet 10/325 1 tab q6h", "acetaminophen 650 mg q4h", "naproxen sodium 550 mg bid"]
    assert (medref.check(lines, reference=warm).to_dict()
            == medref.check(lines, reference=cold).to_dict())


def test_a_damaged_cache_is_ignored_and_rewritten(cache: Path) -> None:
    _load()
    (path,) = cache.glob("data-*.json")
    path.write_bytes(b"{not json")
    again = _load()
    assert again.ingredient("ibuprofen") is not None
    assert path.read_bytes() != b"{not json"


def test_an_empty_cache_dir_setting_turns_it_off(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDREF_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _load()
    assert not list(tmp_path.rglob("data-*.json"))
    refmod._cache.clear()


def test_an_unwritable_cache_dir_is_not_an_error(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("MEDREF_CACHE_DIR", str(blocked / "sub"))
    assert _load().ingredient("ibuprofen") is not None
    refmod._cache.clear()


OURS = f"-v{refmod._CACHE_FORMAT}.json"
"""The current cache format's file name ending."""


def _fake(cache: Path, n: int, suffix: str | None = None, age: float = 0.0) -> Path:
    f = cache / f"data-{n:032x}{suffix if suffix is not None else OURS}"
    f.write_text("[]")
    t = 1_000_000_000.0 + n * 60 - age
    os.utime(f, (t, t))
    return f


def test_the_cache_keeps_the_most_recently_used_data_sets(cache: Path) -> None:
    fakes = [_fake(cache, n) for n in range(1, 11)]  # ten other data sets, oldest first
    _load()  # a miss: writes this data set, then prunes
    kept = set(cache.glob(f"data-*{OURS}"))
    assert len(kept) == refmod.CACHE_KEEP
    assert set(fakes[-(refmod.CACHE_KEEP - 1):]) < kept  # the newest others stay
    assert not any(f in kept for f in fakes[:-(refmod.CACHE_KEEP - 1)])


def test_a_cache_hit_counts_as_use(cache: Path) -> None:
    _load()
    (mine,) = cache.glob(f"data-*{OURS}")
    os.utime(mine, (1_000_000_000.0, 1_000_000_000.0))  # older than every other file
    fakes = [_fake(cache, n, age=-10**6) for n in range(1, 11)]
    _load()  # a hit: refreshes its file's time
    assert mine.stat().st_mtime > 1_000_000_000.0
    (cache / f"data-{0:032x}{OURS}").write_text("[]")  # as if just written: kept
    refmod._cache_prune(cache, cache / f"data-{0:032x}{OURS}")
    assert mine.exists()  # most recently used of the others: kept
    assert sum(f.exists() for f in fakes) == refmod.CACHE_KEEP - 2


def test_files_of_older_cache_formats_are_removed_and_newer_ones_kept(cache: Path) -> None:
    old_binary = cache / "data-8710753abdb3e340f91e5613c48752dc-cpython-311-1.bin"
    old_binary.write_bytes(b"\0")
    old_json = _fake(cache, 1, "-v0.json")
    before_w = _fake(cache, 3, "-v1.json")  # its index read "w/codeine" unlike this version
    newer = _fake(cache, 2, "-v99.json")
    unrelated = cache / "notes.txt"
    unrelated.write_text("mine")
    _load()
    assert not old_binary.exists() and not old_json.exists() and not before_w.exists()
    assert newer.exists() and unrelated.exists()


def test_an_index_built_by_other_code_is_never_read(cache: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The file name and the key inside it carry the code's digest (its version and the
    source of the folding and the index): an index that other code built, here one that
    reads "ibuprofen" as naproxen, is served to the code that wrote it, never to other code."""
    _load()
    (path,) = cache.glob(f"data-*{OURS}")
    assert refmod._code_key() in path.name
    text = path.read_text()
    poisoned = text.replace('"ibuprofen":"ibuprofen"', '"ibuprofen":"naproxen"')
    assert poisoned != text
    path.write_text(poisoned)
    assert _load().resolve("ibuprofen") == "naproxen"  # the same code reads its own file
    monkeypatch.setattr(refmod, "_code_key_memo", ["0" * 12])  # as if the code changed
    assert _load().resolve("ibuprofen") == "ibuprofen"
    assert (cache / path.name.replace(path.name.split("-")[2], "0" * 12)).exists()
    assert path.exists()  # the other code's file is left for it (pruned as data sets are)
