"""Corrupted copies of the data set are rejected with a DataError naming file, entry and field.

Each test copies ``data/*.json`` (MANIFEST.json included) to its own ``tmp_path`` (so the
per-directory cache of ``load_reference`` never serves a stale result), breaks one thing and
loads the copy as a site's own data directory.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from medref.errors import DataError
from medref.reference import (
    _read_all,
    bundled_data_dir,
    combined_digest,
    digest,
    load_reference,
)

Data = list[dict[str, Any]]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A fresh copy of every shipped data file, MANIFEST.json included."""
    src = bundled_data_dir()
    assert src is not None
    d = tmp_path / "data"
    d.mkdir()
    for p in src.glob("*.json"):
        shutil.copy2(p, d / p.name)
    assert (d / "MANIFEST.json").is_file()
    return d


def _edit(d: Path, fname: str, fn: Callable[[Any], None]) -> None:
    path = d / fname
    data = json.loads(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


def _entry(data: Data, eid: str) -> dict[str, Any]:
    return next(e for e in data if e["id"] == eid)


def _limit_index(e: dict[str, Any], **match: Any) -> int:
    return next(i for i, lim in enumerate(e["limits"])
                if all(lim.get(k) == v for k, v in match.items()))


def _load_error(d: Path) -> str:
    with pytest.raises(DataError) as info:
        load_reference(d)
    return str(info.value)


def _assert_names(msg: str, fname: str, entry: str, field: str) -> None:
    assert fname in msg, f"file {fname!r} not named in: {msg}"
    assert f"'{entry}'" in msg, f"entry {entry!r} not named in: {msg}"
    assert field in msg, f"field {field!r} not named in: {msg}"


def test_pristine_copy_loads_as_custom(copy: Path) -> None:
    """The uncorrupted copy is valid: every failure below comes from the corruption."""
    ref = load_reference(copy)
    assert ref.info.origin == "custom"
    assert "ibuprofen" in ref.entries


def test_unknown_key_in_entry(copy: Path) -> None:
    _edit(copy, "drugs.json", lambda D: _entry(D, "ibuprofen").update(max_dose_mg=3200))
    _assert_names(_load_error(copy), "drugs.json", "ibuprofen", "max_dose_mg")


def test_bad_unit_in_limit(copy: Path) -> None:
    _edit(copy, "drugs.json", lambda D: _entry(D, "ibuprofen")["limits"][0].update(unit="mgg"))
    msg = _load_error(copy)
    _assert_names(msg, "drugs.json", "ibuprofen", "limits[0].unit")
    assert "mgg" in msg


def test_typical_min_above_max(copy: Path) -> None:
    _edit(copy, "drugs.json", lambda D: _entry(D, "ibuprofen")["typical"].update(min=900))
    _assert_names(_load_error(copy), "drugs.json", "ibuprofen", "typical")


def test_duplicate_alias_across_files_any_case(copy: Path) -> None:
    """An alias of a drug reused (in another case) by a supplement is rejected."""
    _edit(copy, "supplements.json", lambda D: _entry(D, "vitamin-d3")["aliases"].append("aDVIL"))
    msg = _load_error(copy)
    _assert_names(msg, "supplements.json", "vitamin-d3", "aliases[")
    assert "ibuprofen" in msg


def test_duplicate_id(copy: Path) -> None:
    def dup(D: Data) -> None:
        D.append(json.loads(json.dumps(_entry(D, "ibuprofen"))))
    _edit(copy, "drugs.json", dup)
    msg = _load_error(copy)
    _assert_names(msg, "drugs.json", "ibuprofen", "id")
    assert "duplicate" in msg


def test_single_dose_max_above_daily_max(copy: Path) -> None:
    """A default single-dose maximum above the default per-day maximum names the limits field."""
    def bad(D: Data) -> None:
        e = _entry(D, "ibuprofen")
        e["limits"][_limit_index(e, kind="single", when=None)]["amount"] = 4000
    _edit(copy, "drugs.json", bad)
    msg = _load_error(copy)
    assert "single-dose maximum" in msg
    _assert_names(msg, "drugs.json", "ibuprofen", "limits")


def test_memory_source_marked_verified(copy: Path) -> None:
    def bad(D: Data) -> None:
        e = _entry(D, "ibuprofen")
        i = next(i for i, lim in enumerate(e["limits"]) if "memory" in lim["sources"])
        e["limits"][i]["verified"] = True
    _edit(copy, "drugs.json", bad)
    msg = _load_error(copy)
    _assert_names(msg, "drugs.json", "ibuprofen", "limits[")
    assert "memory" in msg


def test_unknown_source_id(copy: Path) -> None:
    _edit(copy, "drugs.json",
          lambda D: _entry(D, "ibuprofen")["limits"][0].update(sources=["s9999"]))
    msg = _load_error(copy)
    _assert_names(msg, "drugs.json", "ibuprofen", "limits[0].sources")
    assert "s9999" in msg


def test_unknown_therapeutic_class(copy: Path) -> None:
    _edit(copy, "drugs.json", lambda D: _entry(D, "ibuprofen")["classes"].append("nsaidz"))
    msg = _load_error(copy)
    _assert_names(msg, "drugs.json", "ibuprofen", "classes[")
    assert "nsaidz" in msg


def test_invalid_json_names_file_and_line(copy: Path) -> None:
    path = copy / "drugs.json"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    broken = next(i for i, ln in enumerate(lines) if ln.strip() == '"id": "naproxen",')
    lines[broken] = lines[broken].replace(",", "", 1)  # drop the comma after the id
    path.write_text("".join(lines), encoding="utf-8")
    msg = _load_error(copy)
    assert "drugs.json" in msg
    assert "line" in msg
    # the parser notices on the line after the one missing its comma
    assert str(broken + 2) in msg


def test_missing_data_file(copy: Path) -> None:
    (copy / "watch.json").unlink()
    msg = _load_error(copy)
    assert "watch.json" in msg
    assert "missing" in msg


def test_interaction_rule_naming_unknown_id(copy: Path) -> None:
    rules = json.loads((copy / "interactions.json").read_text(encoding="utf-8"))
    rule_id = next(r["id"] for r in rules
                   if r["kind"] == "pair" and not r["a"][0].startswith("class:"))

    def bad(D: Data) -> None:
        _entry(D, rule_id)["a"][0] = "nosuchdrug"
    _edit(copy, "interactions.json", bad)
    msg = _load_error(copy)
    _assert_names(msg, "interactions.json", rule_id, "field a")
    assert "nosuchdrug" in msg


def test_negative_amount(copy: Path) -> None:
    _edit(copy, "drugs.json", lambda D: _entry(D, "ibuprofen")["limits"][0].update(amount=-5))
    _assert_names(_load_error(copy), "drugs.json", "ibuprofen", "limits[0].amount")


def test_typical_unit_incomparable_with_limit_unit(copy: Path) -> None:
    """A seed typical dose in '%' cannot be compared with an 'mg' limit."""
    _edit(copy, "drugs.json", lambda D: _entry(D, "ibuprofen")["typical"].update(unit="%"))
    msg = _load_error(copy)
    _assert_names(msg, "drugs.json", "ibuprofen", "limits[0]")
    assert "'%'" in msg


def test_negative_high_dose_in_supplement(copy: Path) -> None:
    """Corruption in supplements.json names that file and the nested field path."""
    _edit(copy, "supplements.json", lambda D: _entry(D, "vitamin-d3")["bone_healing"].update(
        high_dose=-1, high_dose_unit="mcg"))
    _assert_names(_load_error(copy), "supplements.json", "vitamin-d3", "bone_healing.high_dose")


# -- the manifest never vouches for a copy ------------------------------------------------------

def _forge_manifest(d: Path) -> None:
    """Rewrite MANIFEST.json so it records the (corrupted) bytes now in ``d``."""
    manifest = json.loads((d / "MANIFEST.json").read_text(encoding="utf-8"))
    files = digest(_read_all(d))
    manifest.update(files=files, sha256=combined_digest(files))
    (d / "MANIFEST.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def test_corrupt_copy_with_stale_manifest_is_validated(copy: Path) -> None:
    """The shipped MANIFEST.json kept in a corrupted copy does not skip validation."""
    _edit(copy, "drugs.json", lambda D: _entry(D, "ibuprofen")["limits"][0].update(unit="mgg"))
    _assert_names(_load_error(copy), "drugs.json", "ibuprofen", "limits[0].unit")


def test_corrupt_copy_with_matching_manifest_is_still_validated(copy: Path) -> None:
    """Even a manifest that matches the corrupted bytes is not trusted for a custom data_dir."""
    _edit(copy, "drugs.json", lambda D: _entry(D, "ibuprofen")["limits"][0].update(unit="mgg"))
    _forge_manifest(copy)
    _assert_names(_load_error(copy), "drugs.json", "ibuprofen", "limits[0].unit")


def test_bundled_dir_given_as_data_dir_is_custom() -> None:
    """Passing the bundled directory explicitly is a custom data_dir (validated, origin custom),
    even after the default (manifest-trusted) load of the same directory was cached."""
    bundled = load_reference()
    assert bundled.info.origin == "bundled"
    d = bundled_data_dir()
    assert d is not None
    explicit = load_reference(d)
    assert explicit.info.origin == "custom"
    assert explicit is not bundled
