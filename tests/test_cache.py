"""The parsed-data cache: content-addressed, ignored when damaged, off when asked, and never
a different answer."""

from __future__ import annotations

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
