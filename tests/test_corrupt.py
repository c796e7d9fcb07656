"""Corrupted copies of the data set are rejected with a DataError naming file, entry and field.

Each test copies ``data/*.json`` (MANIFEST.json included) to its own ``tmp_path`` (so the
per-directory cache of ``load_reference`` never serves a stale result), breaks one thing and
loads the copy as a site's own data directory.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import HANG_SECONDS
from hypothesis import given, settings
from hypothesis import strategies as st

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
    _edit(copy, "supplements.json", lambda D: _entry(D, "vitamin-d3")["aliases"].append("tORADOL"))
    msg = _load_error(copy)
    _assert_names(msg, "supplements.json", "vitamin-d3", "aliases[")
    assert "ketorolac" in msg


def test_entry_alias_that_is_a_product_name(copy: Path) -> None:
    """A supplement alias that is also a product's name is rejected, naming both files."""
    _edit(copy, "supplements.json", lambda D: _entry(D, "vitamin-d3")["aliases"].append("aDVIL"))
    msg = _load_error(copy)
    _assert_names(msg, "products.json", "advil", "name")
    assert "'vitamin-d3' (supplements.json)" in msg


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
        e = _entry(D, "acetaminophen")
        i = next(i for i, lim in enumerate(e["limits"]) if "memory" in lim["sources"])
        e["limits"][i]["verified"] = True
    _edit(copy, "drugs.json", bad)
    msg = _load_error(copy)
    _assert_names(msg, "drugs.json", "acetaminophen", "limits[")
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


# -- JSON types are not coerced: the engine reads the raw JSON ----------------------------------
# pydantic's lax mode would accept "4000" for a number, 1 or "true" for a boolean and NaN for an
# amount, and then the check engine (which reads the raw dicts) fails on them at run time.

WRONG_TYPES = [
    # (file, entry, path into the entry, wrong value, words the message must contain)
    ("drugs.json", "acetaminophen", ("limits", 0, "amount"), "4000",
     "must be a number, got a string"),
    ("drugs.json", "acetaminophen", ("limits", 0, "amount"), True, "must be a number"),
    ("drugs.json", "acetaminophen", ("limits", 0, "amount"), None, "got null"),
    ("drugs.json", "acetaminophen", ("limits", 0, "amount"), [4000], "got a list"),
    ("drugs.json", "acetaminophen", ("limits", 0, "verified"), "false", "true or false"),
    ("drugs.json", "acetaminophen", ("limits", 0, "verified"), 0, "true or false"),
    ("drugs.json", "acetaminophen", ("typical", "min"), "325", "must be a number"),
    ("drugs.json", "acetaminophen", ("typical", "max"), {"value": 1000}, "got an object"),
    ("drugs.json", "acetaminophen", ("checkable",), "yes", "true or false"),
    ("drugs.json", "acetaminophen", ("name",), 5, "must be a string"),
    ("drugs.json", "acetaminophen", ("aliases",), "Tylenol", "must be a list"),
    ("drugs.json", "acetaminophen", ("aliases", 0), 5, "must be a string"),
    ("drugs.json", "acetaminophen", ("sources", 0), 15, "must be a string"),
    ("drugs.json", "acetaminophen", ("bone_healing",), "none", "must be an object"),
    ("drugs.json", "acetaminophen", ("notes", 0), 5, "an object or a string"),
    ("drugs.json", "morphine", ("mme_factor", "value"), "1", "must be a number"),
    ("supplements.json", "vitamin-d3", ("limits", 0, "when"), {"min_age": "19"},
     "must be a whole number"),
    ("supplements.json", "vitamin-d3", ("limits", 0, "when"), {"min_age": 19.0},
     "must be a whole number"),
    ("supplements.json", "vitamin-d3", ("limits", 0, "when"), {"hepatic_impairment": 1},
     "true or false"),
    ("supplements.json", "vitamin-d3", ("limits", 0, "when"), {"crcl_below": "30"},
     "must be a number"),
    ("supplements.json", "vitamin-d3", ("iu_per_mcg", "value"), "40", "must be a number"),
    ("supplements.json", "vitamin-d3", ("bone_healing", "rationale"), ["x"], "must be a string"),
    ("watch.json", "nicotine", ("bone_healing", "verified"), "true", "true or false"),
]


def _set(obj: Any, path: tuple[str | int, ...], value: Any) -> None:
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def _path_text(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


@pytest.mark.parametrize(("fname", "eid", "path", "value", "words"), WRONG_TYPES,
                         ids=lambda v: _path_text(v) if isinstance(v, tuple) else None)
def test_wrong_json_type_is_rejected(copy: Path, fname: str, eid: str,
                                     path: tuple[str | int, ...], value: Any, words: str) -> None:
    _edit(copy, fname, lambda D: _set(_entry(D, eid), path, value))
    msg = _load_error(copy)
    _assert_names(msg, fname, eid, f"field {_path_text(path)}")
    assert words in msg
    assert "\n" not in msg


@pytest.mark.parametrize("fname", ["policy.json"])
def test_wrong_type_in_policy(copy: Path, fname: str) -> None:
    _edit(copy, fname, lambda D: D["mme_warning"].update(value="50"))
    msg = _load_error(copy)
    _assert_names(msg, fname, "policy", "field mme_warning.value: must be a number, got a string")


def test_wrong_type_in_interaction_rule(copy: Path) -> None:
    rules = json.loads((copy / "interactions.json").read_text(encoding="utf-8"))
    rule = next(r for r in rules if r["kind"] == "group")
    _edit(copy, "interactions.json", lambda D: _entry(D, rule["id"]).update(min_count="2"))
    _assert_names(_load_error(copy), "interactions.json", rule["id"],
                  "field min_count: must be a whole number")


def test_wrong_type_in_source(copy: Path) -> None:
    _edit(copy, "sources.json", lambda D: _entry(D, "seed").update(short=7))
    _assert_names(_load_error(copy), "sources.json", "seed", "field short: must be a string")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 400])
def test_non_finite_json_numbers_are_rejected(copy: Path, literal: str) -> None:
    """Python's json module reads NaN, Infinity, 1e999 (inf) and huge integers; none is a
    usable amount."""
    path = copy / "drugs.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    _entry(data, "acetaminophen")["limits"][0]["amount"] = "@@AMOUNT@@"
    path.write_text(json.dumps(data, indent=1).replace('"@@AMOUNT@@"', literal),
                    encoding="utf-8")
    msg = _load_error(copy)
    _assert_names(msg, "drugs.json", "acetaminophen", "field limits[0].amount")
    assert "finite" in msg


@pytest.mark.parametrize(("fname", "eid", "path"), [
    ("drugs.json", "morphine", ("mme_factor", "value")),
    ("supplements.json", "vitamin-d3", ("bone_healing", "high_dose")),
    ("drugs.json", "acetaminophen", ("typical", "max")),
])
def test_infinity_elsewhere_is_rejected(copy: Path, fname: str, eid: str,
                                        path: tuple[str | int, ...]) -> None:
    _edit(copy, fname, lambda D: _set(_entry(D, eid), path, float("inf")))
    if path[-1] == "high_dose":
        _edit(copy, fname, lambda D: _entry(D, eid)["bone_healing"].update(high_dose_unit="mcg"))
    _assert_names(_load_error(copy), fname, eid, f"field {_path_text(path)}")


def test_infinite_policy_value_is_rejected(copy: Path) -> None:
    _edit(copy, "policy.json", lambda D: D["mme_high"].update(value=float("inf")))
    _assert_names(_load_error(copy), "policy.json", "policy", "field mme_high.value")


def test_negative_typical_dose(copy: Path) -> None:
    _edit(copy, "drugs.json", lambda D: _entry(D, "acetaminophen")["typical"].update(min=-1))
    _assert_names(_load_error(copy), "drugs.json", "acetaminophen", "field typical.min")


def test_text_is_not_silently_stripped(copy: Path) -> None:
    """The engine shows the raw name, so surrounding whitespace is an error, not a strip."""
    _edit(copy, "drugs.json", lambda D: _entry(D, "acetaminophen").update(name=" Acetaminophen"))
    msg = _load_error(copy)
    _assert_names(msg, "drugs.json", "acetaminophen", "field name")
    assert "whitespace" in msg


@pytest.mark.parametrize(("fname", "eid", "path"), [
    ("drugs.json", "acetaminophen", ("typical", "sources")),
    ("drugs.json", "acetaminophen", ("bone_healing", "sources")),
    ("supplements.json", "vitamin-d3", ("iu_per_mcg", "sources")),
])
def test_unknown_source_id_anywhere(copy: Path, fname: str, eid: str,
                                    path: tuple[str | int, ...]) -> None:
    _edit(copy, fname, lambda D: _set(_entry(D, eid), path, ["seed", "s9999"]))
    msg = _load_error(copy)
    _assert_names(msg, fname, eid, f"field {_path_text(path)}")
    assert "s9999" in msg


def test_unknown_source_id_in_interaction_rule(copy: Path) -> None:
    rules = json.loads((copy / "interactions.json").read_text(encoding="utf-8"))
    rid = rules[0]["id"]
    _edit(copy, "interactions.json", lambda D: _entry(D, rid).update(sources=["s9999"]))
    msg = _load_error(copy)
    _assert_names(msg, "interactions.json", rid, "field sources")
    assert "s9999" in msg


def test_duplicate_id_across_files(copy: Path) -> None:
    """A supplement reusing a drug's id is rejected, naming the other file."""
    def dup(D: Data) -> None:
        _entry(D, "vitamin-d3")["id"] = "ibuprofen"
    _edit(copy, "supplements.json", dup)
    msg = _load_error(copy)
    _assert_names(msg, "supplements.json", "ibuprofen", "field id")
    assert "duplicate" in msg and "drugs.json" in msg


def test_duplicate_source_id_is_named(copy: Path) -> None:
    _edit(copy, "sources.json", lambda D: D.append(dict(_entry(D, "seed"))))
    msg = _load_error(copy)
    _assert_names(msg, "sources.json", "seed", "field id")
    assert "duplicate" in msg


def test_duplicate_rule_id(copy: Path) -> None:
    _edit(copy, "interactions.json", lambda D: D.append(dict(D[0])))
    rules = json.loads((copy / "interactions.json").read_text(encoding="utf-8"))
    msg = _load_error(copy)
    _assert_names(msg, "interactions.json", rules[0]["id"], "field id")
    assert "duplicate" in msg


def test_models_still_accept_the_raw_json_shapes() -> None:
    """Per-field strictness keeps JSON arrays (tuples) and JSON strings (enums) valid, in both
    validate_python (``Reference.model``) and validate_json."""
    from medref.models import Entry
    ref = load_reference()
    raw = ref.entries["acetaminophen"]
    assert Entry.model_validate(raw).id == "acetaminophen"
    assert Entry.model_validate_json(json.dumps(raw)).limits[0].amount == raw["limits"][0]["amount"]
    assert ref.model("ibuprofen").routes


@pytest.mark.parametrize("command", [
    ["check", "acetaminophen 1 g q6h"],
    ["drugs"],
    ["show", "acetaminophen"],
])
def test_cli_string_amount_fails_loudly(copy: Path, command: list[str]) -> None:
    """The reported defect: "amount": "4000" used to pass validation, then crash the engine
    with "internal error: TypeError". Now: one line naming file, entry and field; exit 2."""
    def bad(D: Data) -> None:
        e = _entry(D, "acetaminophen")
        e["limits"][_limit_index(e, amount=4000)]["amount"] = "4000"
    _edit(copy, "drugs.json", bad)
    e = _entry(json.loads((copy / "drugs.json").read_text(encoding="utf-8")), "acetaminophen")
    i = _limit_index(e, amount="4000")
    res = subprocess.run([sys.executable, "-m", "medref", command[0], "--data", str(copy),
                          *command[1:]], capture_output=True, text=True, timeout=HANG_SECONDS,
                         env={**os.environ, "MEDREF_DEBUG": ""})
    assert res.returncode == 2, res.stdout + res.stderr
    err = res.stderr.strip()
    assert "internal error" not in err and "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    _assert_names(err, "drugs.json", "acetaminophen",
                  f"limits[{i}].amount: must be a number, got a string")


# -- property: any scalar of any entry, given the wrong JSON type, is named in the error --------

_RAW: dict[str, Any] = {}


def _raw() -> dict[str, Any]:
    if not _RAW:
        base = bundled_data_dir()
        assert base is not None
        _RAW.update({n: json.loads(b) for n, b in _read_all(base).items()})
    return _RAW


def _leaves(obj: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...],
                                                                         Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*path, i))
    else:
        yield path, obj


@functools.cache
def _targets() -> list[tuple[str, str, tuple[str | int, ...], Any]]:
    """(file, entry label, path inside the entry, value) of every scalar in the data set."""
    raw = _raw()
    out: list[tuple[str, str, tuple[str | int, ...], Any]] = []
    for fname in ("drugs.json", "supplements.json", "watch.json", "interactions.json",
                  "sources.json"):
        for i, item in enumerate(raw[fname]):
            out.extend((fname, item["id"], (i, *p), v) for p, v in _leaves(item)
                       if p != ("id",) and v is not None)
    out.extend(("policy.json", "policy", p, v) for p, v in _leaves(raw["policy.json"])
               if v is not None)
    return out


def _wrong(value: Any) -> st.SearchStrategy[Any]:
    if isinstance(value, bool):
        return st.sampled_from([str(value).lower(), int(value), [value]])
    if isinstance(value, int | float):
        text = str(value)
        return st.sampled_from([text, f"{value:g}", True, [value], {"value": value}])
    return st.sampled_from([1, 0.5, True, False, [value], {"text": value}])


@st.composite
def _mutation(draw: st.DrawFn) -> tuple[str, str, tuple[str | int, ...], Any, Any]:
    fname, label, path, value = draw(st.sampled_from(_targets()))
    return fname, label, path, value, draw(_wrong(value))


@settings(max_examples=150, deadline=None)
@given(_mutation())
def test_any_scalar_with_a_wrong_json_type_is_named(
        m: tuple[str, str, tuple[str | int, ...], Any, Any]) -> None:
    from medref._validate import validate_raw
    fname, label, path, value, wrong = m
    raw = json.loads(json.dumps(_raw()))
    _set(raw[fname], path, wrong)
    with pytest.raises(DataError) as info:
        validate_raw(raw, Path("/data-under-test"))
    msg = str(info.value)
    field = _path_text(path[1:] if fname != "policy.json" else path)
    assert msg.startswith(f"/data-under-test/{fname}: entry '{label}': field {field}"), (
        f"mutating {fname} {label} {field} = {value!r} -> {wrong!r} gave: {msg}")
    assert info.value.entry == label
    assert "\n" not in msg


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([t for t in _targets() if isinstance(t[3], int | float)
                        and not isinstance(t[3], bool)]))
def test_any_number_as_a_string_is_named(t: tuple[str, str, tuple[str | int, ...], Any]) -> None:
    """The reported defect's whole class: every numeric field, turned into a numeric string."""
    from medref._validate import validate_raw
    fname, label, path, value = t
    raw = json.loads(json.dumps(_raw()))
    _set(raw[fname], path, str(value))
    with pytest.raises(DataError) as info:
        validate_raw(raw, Path("/data-under-test"))
    field = _path_text(path[1:] if fname != "policy.json" else path)
    assert str(info.value).startswith(
        f"/data-under-test/{fname}: entry '{label}': field {field}: must be "), str(info.value)
    assert "got a string" in str(info.value)
