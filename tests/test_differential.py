"""One answer through every door.

Generated regimens (known, unknown and malformed lines, structured items, context on any CSV
row, command-line options) give the same findings through ``medref check`` (lines as
arguments), ``check -f`` (.json, .jsonl and .csv files), ``medref batch`` (JSONL and CSV, in
two record orders), :func:`medref.check` and :func:`medref.check_many`, with cold and warm
caches. The five divergences the pipeline redesign fixed are fixed cases here.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import medref
from medref.api import engine_for
from medref.cli import cli
from medref.context import CONTEXT_KEYS
from medref.regimen import Record

SIGS = [
    "ibuprofen 800 mg po tid", "Advil 800mg q6h", "naproxen 500 mg bid",
    "acetaminophen 1 g q6h", "Tylenol 650 mg q4h prn pain", "tramadol 50-100 mg q4-6h prn",
    "tramadol 100 mg q6h", "oxycodone 10 mg q4h prn", "hydromorphone 2 mg iv q3h prn",
    "gabapentin 600 mg tid", "zoledronic acid 5 mg iv yearly", "alendronate 70 mg weekly",
    "ketorolac 30 mg iv q6h x 6 days", "calcium citrate 1200 mg bid", "boron 18 mg daily",
    "vitamin d3 5000 IU daily", "celecoxib 200 mg bid", "duloxetine 60 mg daily",
    "tizanidine 8 mg q6h", "methocarbamol 1500 mg qid", "fluoxetine 20 mg daily",
    "xyzzy 10 mg daily", "ibuprofin 400 mg tid", "percocet 5/325 q6h", "asdf",
    "ibuprofen 400 mg q0h", "acetaminophen -500 mg q6h", "prednisone 10 mg daily",
    "lidocaine 5% patch 1 patch daily", "tramadol 50 mg q6h, fluoxetine 20 mg",
    # products, formulations, salts, counts, caps, steps, averages
    "Percocet 10/325 1 tab po q6h prn", "Tylenol #3 2 tabs po q4h prn",
    "Norco 5/325 take 1 by mouth every 6 hours", "Percocet 1-2 tabs q4h prn",
    "Amrix 15 mg po daily", "tramadol ER 200 mg po bid", "OxyContin 20 mg q12h",
    "calcium carbonate 1250 mg po bid", "Anaprox DS 550 mg bid",
    "vitamin D3 50,000 IU po weekly", "Tylenol 650 mg 2 caplets po q6h",
    "acetaminophen 500 mg 1-2 tabs q4h prn, max 8 tabs a day",
    "prednisone 40 mg po daily x 3 days then 20 mg po daily x 3 days",
    "oxycodone 5 mg tablet: take 1-2 tablets by mouth every 4 hours as needed for pain",
    "Lidoderm 5% patch 3 patches daily, 12 hours on and 12 hours off",
    # everyday drugs: formulations by suffix, renal rules, Beers flags, interactions
    "Toprol-XL 50 mg daily", "lisinopril 20 mg po daily", "HCTZ 25 mg daily",
    "metformin ER 500 mg 2 tabs daily", "levothyroxine 100 mcg daily",
    "Wellbutrin SR 150 mg bid", "diphenhydramine 50 mg qhs", "vitamin C 1000 mg tid",
    "acetaminophen 500 mg tablet: 1 mane 2 nocte", "romosozumab 210 mg sc every 4 weeks",
    "acetaminophen 1,5 g q6h", "Percocet 10/650 1 tab q6h",
]
STRUCTURED: list[dict[str, Any]] = [
    {"name": "ibuprofen", "dose": 600, "unit": "mg", "frequency": "q6h"},
    {"name": "acetaminophen", "dose": 500, "unit": "mg", "frequency": "q4h", "prn": True,
     "prn_reason": "pain 2 tablets"},
    {"name": "Tylenol", "dose": 1, "unit": "g", "frequency": "q6h"},
    {"name": "metformin", "dose": 500, "unit": "mg", "frequency": "bid"},
    {"name": "sitagliptin", "dose": 100, "unit": "mg", "frequency": "daily"},
    {"name": "Toprol-XL", "dose": 50, "unit": "mg", "frequency": "daily"},
    {"name": "tramadol", "dose": 100, "unit": "mg", "frequency": "q4h", "duration": 3},
    {"name": "gabapentin", "dose": 300, "dose_max": 600, "unit": "mg", "frequency": "tid"},
    {"name": "ketorolac", "dose": 10, "unit": "mg", "frequency": "q6h", "route": "po",
     "duration": "7 days"},
    {"name": "Percocet", "strength": "10/325", "dose": 1, "unit": "tablet", "frequency": "q6h"},
    {"name": "Amrix", "dose": 30, "unit": "mg", "frequency": "daily"},
]
ITEMS = st.one_of(st.sampled_from(SIGS), st.sampled_from(STRUCTURED))
CONTEXT = st.fixed_dictionaries({}, optional={
    "age": st.integers(0, 100), "crcl": st.sampled_from([20, 29.5, 34, 45, 90]),
    "hepatic_impairment": st.booleans(), "weeks_since_surgery": st.integers(0, 40)})
RECORD = st.tuples(st.lists(ITEMS, min_size=1, max_size=5), CONTEXT,
                   st.randoms(use_true_random=False))


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _csv(records: list[tuple[str, list[Any], dict[str, Any], random.Random]],
         with_id: bool) -> str:
    """The records as CSV rows; each context value on a random row of its record."""
    cols = ["id"] if with_id else []
    cols += ["sig", "name", "dose", "dose_max", "unit", "frequency", "route", "prn",
             "prn_reason", "duration", "strength", *CONTEXT_KEYS]
    out = io.StringIO()
    w = csv.DictWriter(out, cols, lineterminator="\n")
    w.writeheader()
    for rid, items, ctx, rnd in records:
        rows: list[dict[str, str]] = []
        for it in items:
            row = {"sig": it} if isinstance(it, str) else {k: _cell(v) for k, v in it.items()}
            if with_id:
                row["id"] = rid
            rows.append(row)
        for k, v in ctx.items():
            rows[rnd.randrange(len(rows))][k] = _cell(v)
        w.writerows(rows)
    return out.getvalue()


def _norm(doc: dict[str, Any], keep_summary: bool = True) -> dict[str, Any]:
    """Findings and summary (where each context value came from set aside)."""
    out: dict[str, Any] = {"findings": doc["findings"]}
    if keep_summary:
        summary = dict(doc["summary"])
        summary.pop("context_sources", None)
        out["summary"] = summary
    return out


def _cli(*args: str) -> dict[str, Any]:
    res = CliRunner().invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert res.exit_code in (0, 1), res.output
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


def _flags(options: dict[str, Any]) -> list[str]:
    out = []
    for k, v in options.items():
        flag = "--" + k.replace("_", "-")
        if k == "hepatic_impairment":
            out.append(flag if v else "--no-hepatic-impairment")
        else:
            out += [flag, str(v)]
    return out


def _batch(path: Path, options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = path.with_suffix(".out.jsonl")
    res = CliRunner().invoke(cli, ["batch", str(path), "-o", str(out), *_flags(options)],
                             catch_exceptions=False)
    assert res.exit_code in (0, 1), res.output
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert all("error" not in r for r in rows), rows
    return {str(r["id"]): _norm(r) for r in rows}


def every_door(records: list[tuple[list[Any], dict[str, Any], random.Random]],
               options: dict[str, Any], tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """Each record through each door: door -> list of normalized results, record order."""
    named = [(f"r{i}", items, ctx, rnd) for i, (items, ctx, rnd) in enumerate(records)]
    got: dict[str, list[dict[str, Any]]] = {}
    engine_for.cache_clear()
    got["library, cold"] = [_norm(medref.check(items, options, input_context=ctx).to_dict())
                            for _, items, ctx, _ in named]
    got["library, warm"] = [_norm(medref.check(items, options, input_context=ctx).to_dict())
                            for _, items, ctx, _ in named]
    many = medref.check_many([Record(rid, items, medref.Context(**ctx), 1)
                              for rid, items, ctx, _ in named], context=options)
    got["check_many"] = [_norm(r.to_dict()) for r in many]
    got["check_many, mappings"] = [_norm(r.to_dict()) for r in medref.check_many(
        [{"id": rid, "items": items, "context": ctx} for rid, items, ctx, _ in named],
        context=options)]
    for door in ("json", "jsonl", "csv"):
        got[f"check -f .{door}"] = []
    for n, (rid, items, ctx, _) in enumerate(named):
        doc = {"id": rid, "items": items, "context": ctx}
        (tmp / f"{n}.json").write_text(json.dumps(doc), encoding="utf-8")
        (tmp / f"{n}.jsonl").write_text(json.dumps(doc) + "\n", encoding="utf-8")
        (tmp / f"{n}.csv").write_text(_csv([(rid, items, ctx, random.Random(n))], False),
                                      encoding="utf-8")
        for door in ("json", "jsonl", "csv"):
            got[f"check -f .{door}"].append(
                _norm(_cli("check", "-f", str(tmp / f"{n}.{door}"), *_flags(options))))
    lines = tmp / "all.jsonl"
    lines.write_text("".join(json.dumps({"id": rid, "items": items, "context": ctx}) + "\n"
                             for rid, items, ctx, _ in named), encoding="utf-8")
    forward = _batch(lines, options)
    got["batch jsonl"] = [forward[rid] for rid, *_ in named]
    shuffled = list(named)
    random.Random(len(named)).shuffle(shuffled)
    back = tmp / "shuffled.jsonl"
    back.write_text("".join(json.dumps({"id": rid, "items": items, "context": ctx}) + "\n"
                            for rid, items, ctx, _ in shuffled), encoding="utf-8")
    engine_for.cache_clear()
    backward = _batch(back, options)
    got["batch jsonl, shuffled, cold"] = [backward[rid] for rid, *_ in named]
    # each regimen three times: batch keeps a regimen's result when it comes a second time
    # and writes the third from memory
    twice = tmp / "thrice.jsonl"
    twice.write_text("".join(json.dumps({"id": f"{rid}{tag}", "items": items, "context": ctx})
                             + "\n" for tag in ("", "~again", "~third")
                             for rid, items, ctx, _ in named), encoding="utf-8")
    again = _batch(twice, options)
    got["batch jsonl, each regimen again"] = [
        again[f"{rid}~again"] for rid, *_ in named]
    got["batch jsonl, each regimen a third time"] = [
        again[f"{rid}~third"] for rid, *_ in named]
    table = tmp / "all.csv"
    table.write_text(_csv(named, True), encoding="utf-8")
    by_csv = _batch(table, options)
    got["batch csv"] = [by_csv[rid] for rid, *_ in named]
    return got


@settings(max_examples=40)
@given(records=st.lists(RECORD, min_size=1, max_size=4), options=CONTEXT)
def test_every_door_gives_the_same_findings(
        records: list[tuple[list[Any], dict[str, Any], random.Random]],
        options: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("doors")
    got = every_door(records, options, tmp)
    want = got.pop("library, cold")
    for door, results in got.items():
        assert results == want, door
    # lines as arguments: the context is all options there (no file), findings still agree
    for (items, ctx, _), expected in zip(records, want, strict=True):
        if all(isinstance(i, str) for i in items):
            doc = _cli("check", *items, *_flags({**options, **ctx}))
            assert _norm(doc, keep_summary=False)["findings"] == expected["findings"]


# -- the five divergences, fixed ------------------------------------------------------------

def _codes(doc: dict[str, Any]) -> dict[str, str]:
    return {f["code"]: f["severity"] for f in doc["findings"]}


def test_context_on_a_later_csv_row(tmp_path: Path) -> None:
    """1. CSV context on the second row of a record: both commands report the error-level
    MR601 for zoledronic acid at CrCl 30."""
    text = ("id,sig,crcl\np1,acetaminophen 500 mg q6h,\n"
            "p1,zoledronic acid 5 mg iv yearly,30\n")
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    checked = _cli("check", "-f", str(path))
    batched = _batch(path, {})["p1"]
    assert _codes(checked)["MR601"] == "error"
    assert _norm(checked) == batched
    assert checked["summary"]["context"]["crcl"] == 30


def test_a_duplicated_csv_column_is_an_error_in_both_commands(tmp_path: Path) -> None:
    """2. ``id,sig,sig``: an input error in check -f and in batch, never a dropped line."""
    path = tmp_path / "dup.csv"
    path.write_text("id,sig,sig\np1,acetaminophen 500 mg q6h,tramadol 100 mg q4h\n",
                    encoding="utf-8")
    res = CliRunner().invoke(cli, ["check", "-f", str(path)])
    assert res.exit_code == 2 and "duplicate CSV column" in res.stderr
    out = tmp_path / "o.jsonl"
    res = CliRunner().invoke(cli, ["batch", str(path), "-o", str(out)])
    assert res.exit_code == 2
    [row] = [json.loads(x) for x in out.read_text().splitlines()]
    assert "duplicate CSV column" in row["error"] and "'sig'" in row["error"]


def test_one_precedence_rule(tmp_path: Path) -> None:
    """3. ``--age 80`` and a record's ``"age": 30``: the record's value is used by check -f,
    batch and the library alike, and the output says where it came from."""
    rec = {"id": "x", "items": ["tramadol 100 mg q6h"], "context": {"age": 30}}
    (tmp_path / "r.json").write_text(json.dumps(rec), encoding="utf-8")
    (tmp_path / "r.jsonl").write_text(json.dumps(rec) + "\n", encoding="utf-8")
    checked = _cli("check", "-f", str(tmp_path / "r.json"), "--age", "80")
    batched = _batch(tmp_path / "r.jsonl", {"age": 80})["x"]
    lib = medref.check(rec["items"], {"age": 80}, input_context=rec["context"]).to_dict()
    for doc in (checked, batched, lib):
        assert doc["summary"]["context"]["age"] == 30
        assert "MR107" not in _codes(doc)
    assert checked["summary"]["context_sources"]["age"] == "input"
    assert _norm(checked) == batched == _norm(lib)


def test_an_upper_intake_level_without_an_age_band_reads_alike_in_any_order(
        tmp_path: Path) -> None:
    """4. A UL with no age band: 'age not given' and 'age 40' no longer share a cached
    result, so the wording does not depend on the record order."""
    data = tmp_path / "data"
    import shutil

    from medref.reference import bundled_data_dir
    src = bundled_data_dir()
    assert src is not None
    shutil.copytree(src, data)
    sups = json.loads((data / "supplements.json").read_text(encoding="utf-8"))
    boron = next(e for e in sups if e["id"] == "boron")
    boron["limits"] = [
        {"kind": "upper-intake", "amount": 20, "unit": "mg", "period": "day",
         "severity": "warning", "basis": "total", "sources": ["s29"], "verified": True}]
    (data / "supplements.json").write_text(json.dumps(sups), encoding="utf-8")
    ref = medref.load_reference(data)
    recs = [{"id": "none", "items": ["boron 30 mg daily"]},
            {"id": "forty", "items": ["boron 30 mg daily"], "context": {"age": 40}}]
    one = [r.to_dict() for r in medref.check_many(recs, reference=ref)]
    two = [r.to_dict() for r in medref.check_many(list(reversed(recs)), reference=ref)]
    assert one == list(reversed(two))
    msgs = [next(f["message"] for f in d["findings"] if f["code"] == "MR401") for d in one]
    assert "for adults" in msgs[0] and "for all ages" in msgs[1]


def test_minus_zero_is_zero_whatever_the_order() -> None:
    """5. A context value of -0.0 is stored and echoed as 0.0, in any record order."""
    recs = [{"id": "a", "items": ["ibuprofen 400 mg tid"], "context": {"crcl": -0.0}},
            {"id": "b", "items": ["ibuprofen 400 mg tid"], "context": {"crcl": 0.0}}]
    for order in (recs, list(reversed(recs))):
        for r in medref.check_many(order):
            assert r.result is not None
            crcl = r.result.summary.context.crcl
            assert crcl == 0.0 and str(crcl) == "0.0"
            assert json.loads(r.to_json())["summary"]["context"]["crcl"] == 0.0
            assert '"crcl":0.0' in r.to_json()
