"""Library and CLI inputs are validated, never silently read as something else.

Context values, the default context of check_many, batch -o onto links and special files,
a regimen file's context and top-level keys, the validators' amounts, units and routes,
exit_code's severity, --version's data set, and check -f CSV with a sig column.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import stat
import threading
from pathlib import Path
from typing import Annotated, Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from medref import (
    Context,
    check,
    check_daily_dose,
    check_many,
    daily_max,
    load_reference,
    within_daily_max,
)
from medref.batch import Record, context_from, read_jsonl
from medref.cli import cli
from medref.reference import bundled_data_dir
from medref.validators import checked_regimen

RANGES = {"age": 130, "crcl": 250, "weeks_since_surgery": 520}
TRAMADOL = ["tramadol 100 mg q6h"]
OLD_KIDNEY = Context(age=80, crcl=20)


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def error_codes(findings: Any) -> set[str]:
    return {f["code"] if isinstance(f, dict) else f.code for f in findings
            if (f["severity"] if isinstance(f, dict) else f.severity) == "error"}


def one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and result.stdout == ""
    for n in needles:
        assert n in err, (n, err)


# -- 1. Context validates its values ------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "field"), [
    ({"hepatic_impairment": "yes"}, "hepatic_impairment"),
    ({"hepatic_impairment": 1}, "hepatic_impairment"),
    ({"crcl": float("nan")}, "crcl"),
    ({"crcl": float("inf")}, "crcl"),
    ({"crcl": -1}, "crcl"),
    ({"crcl": True}, "crcl"),
    ({"age": "80"}, "age"),
    ({"age": True}, "age"),
    ({"age": 131}, "age"),
    ({"age": 10**400}, "age"),
    ({"age": [80]}, "age"),
    ({"weeks_since_surgery": 521}, "weeks_since_surgery"),
    ({"weeks_since_surgery": float("-inf")}, "weeks_since_surgery"),
])
def test_context_rejects_bad_values_naming_the_field(kwargs: dict[str, Any], field: str
                                                     ) -> None:
    with pytest.raises(ValueError, match=f"context.{field}"):
        Context(**kwargs)


def test_context_nan_crcl_is_not_read_as_normal_kidneys() -> None:
    """CrCl NaN used to give no MR601 at all (every comparison with NaN is false)."""
    assert "MR601" in {f.code for f in check(["Reclast 5 mg iv yearly"], Context(crcl=20))
                       .findings}
    with pytest.raises(ValueError, match="crcl"):
        check(["Reclast 5 mg iv yearly"], Context(crcl=float("nan")))


def test_context_stays_frozen_hashable_and_normalises_age() -> None:
    ctx = Context(age=80.0, crcl=20)  # type: ignore[arg-type]
    assert ctx.age == 80 and isinstance(ctx.age, int)
    assert hash(ctx) == hash(Context(age=80, crcl=20)) and ctx == Context(age=80, crcl=20)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.age = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"context\.age"):
        dataclasses.replace(ctx, age=-1)


def test_context_and_batch_records_share_one_rule() -> None:
    """context_from (batch records, CSV cells) and Context give the same message."""
    for key, bad in [("age", 200), ("crcl", float("nan")), ("hepatic_impairment", "maybe")]:
        with pytest.raises(ValueError) as lib:
            Context(**{key: bad})
        with pytest.raises(ValueError) as rec:
            context_from({key: bad})
        assert str(lib.value) == str(rec.value)
    assert context_from({"age": "80", "hepatic_impairment": "yes"}) == Context(
        age=80, hepatic_impairment=True)


NON_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf")])


def _out_of_range(top: int) -> st.SearchStrategy[float]:
    return st.one_of(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
                     st.floats(min_value=top + 1e-6, allow_nan=False, allow_infinity=False),
                     st.integers(max_value=-1), st.integers(min_value=top + 1))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(RANGES)).flatmap(
    lambda k: st.tuples(st.just(k), st.one_of(NON_FINITE, _out_of_range(RANGES[k]),
                                              st.booleans(), st.text(max_size=5)))))
def test_any_bad_numeric_context_value_raises_naming_the_field(case: tuple[str, Any]) -> None:
    key, value = case
    with pytest.raises(ValueError, match=f"'context.{key}'"):
        Context(**{key: value})


VALID = st.builds(
    Context,
    age=st.one_of(st.none(), st.integers(0, 130)),
    crcl=st.one_of(st.none(), st.integers(0, 250),
                   st.floats(0, 250, allow_nan=False, allow_infinity=False)),
    hepatic_impairment=st.one_of(st.none(), st.booleans()),
    weeks_since_surgery=st.one_of(st.none(), st.integers(0, 520),
                                  st.floats(0, 520, allow_nan=False, allow_infinity=False)),
)


@settings(max_examples=150, deadline=None)
@given(VALID)
def test_valid_context_round_trips_through_to_dict(ctx: Context) -> None:
    d = ctx.to_dict()
    assert Context(**d) == ctx
    assert context_from(d) == ctx
    assert context_from(json.loads(json.dumps(d))) == ctx


def test_cli_context_options_still_give_exit_2() -> None:
    for opt, value in [("--age", "200"), ("--crcl", "nan"), ("--weeks-since-surgery", "-1")]:
        result = run("check", opt, value, "ibuprofen 400 mg tid")
        assert result.exit_code == 2, result.output
        assert opt in result.stderr and "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("Error:")


# -- 2. check_many's default context reaches Record objects -------------------------------------

def test_check_many_default_context_applies_to_records_without_one() -> None:
    expected = error_codes(check(TRAMADOL, OLD_KIDNEY).findings)
    assert {"MR103", "MR107"} <= expected
    got = list(check_many([Record("r", TRAMADOL), {"id": "m", "items": TRAMADOL}, TRAMADOL],
                          context=OLD_KIDNEY))
    for res in got:
        assert res.result is not None
        assert error_codes(res.result.findings) == expected, res.id
        assert res.result.summary.context == OLD_KIDNEY


def test_check_many_record_context_wins_and_unset_values_are_filled() -> None:
    """As for mappings: a record's own values override the default, its unset ones come from
    it (records read without a default, as read_jsonl gives them, included)."""
    [res] = check_many([Record("r", TRAMADOL, Context(age=40))], context=OLD_KIDNEY)
    assert res.result is not None and res.result.summary.context == Context(age=40, crcl=20)
    [res] = check_many(read_jsonl([json.dumps({"id": 1, "items": TRAMADOL})]),
                       context=OLD_KIDNEY)
    assert res.result is not None and res.result.summary.context == OLD_KIDNEY


# -- 3. batch -o onto symlinks and special files ------------------------------------------------

def _batch_input(tmp_path: Path) -> Path:
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "a", "items": ["gabapentin 300 mg tid"]}) + "\n")
    return inp


def test_batch_output_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    inp = _batch_input(tmp_path)
    real_dir = tmp_path / "elsewhere"
    real_dir.mkdir()
    target = real_dir / "results.jsonl"
    target.write_text("old\n")
    link = tmp_path / "out.jsonl"
    link.symlink_to(target)
    res = run("batch", str(inp), "-o", str(link))
    assert res.exit_code in (0, 1), res.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text().splitlines()[0])["id"] == "a"
    assert not list(tmp_path.glob(".medref-batch-*")) and not list(real_dir.glob(".medref-*"))


def test_batch_output_symlink_untouched_when_the_batch_fails(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    target = tmp_path / "results.jsonl"
    target.write_text("old\n")
    link = tmp_path / "out.jsonl"
    link.symlink_to(target)
    res = run("batch", str(empty), "-o", str(link))
    assert res.exit_code == 2
    assert link.is_symlink() and target.read_text() == "old\n"
    assert not list(tmp_path.glob(".medref-batch-*"))


def test_batch_output_fifo_is_written_directly(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    inp = _batch_input(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        res = run("batch", str(inp), "-o", str(fifo))
    finally:
        t.join(5)
        if t.is_alive():  # the batch never opened the FIFO: unblock the reader (a
            # non-blocking open never waits for a reader that has just finished)
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        t.join(10)
    assert res.exit_code in (0, 1), res.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a regular file"
    assert json.loads(got[0].decode().splitlines()[0])["id"] == "a"
    assert not list(tmp_path.glob(".medref-batch-*"))


def test_batch_output_char_device_is_written_directly(tmp_path: Path) -> None:
    """A character device (a private copy of /dev/null) is written, not replaced."""
    dev = tmp_path / "null"
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        with open(dev, "wb") as fh:
            fh.write(b"x")
    except (OSError, AttributeError):
        pytest.skip("cannot create and write a device node here (needs root, not nodev)")
    res = run("batch", str(_batch_input(tmp_path)), "-o", str(dev))
    assert res.exit_code in (0, 1), res.output
    assert stat.S_ISCHR(os.lstat(dev).st_mode), "the device was replaced by a regular file"
    assert not list(tmp_path.glob(".medref-batch-*"))


# -- 4. check -f honours the file's context and rejects unknown keys ----------------------------

def test_check_file_context_is_honoured(tmp_path: Path) -> None:
    rec = tmp_path / "rec.json"
    rec.write_text(json.dumps({"items": TRAMADOL, "context": {"age": 80, "crcl": 20}}))
    by_file = run("check", "-f", str(rec), "--fail-on", "error", "--format", "json")
    by_flags = run("check", *TRAMADOL, "--age", "80", "--crcl", "20", "--fail-on", "error",
                   "--format", "json")
    assert by_file.exit_code == by_flags.exit_code == 1, by_file.output
    doc = json.loads(by_file.stdout)
    assert {"MR103", "MR107"} <= error_codes(doc["findings"])
    assert doc["findings"] == json.loads(by_flags.stdout)["findings"]


def test_the_file_context_wins_and_flags_fill_the_rest(tmp_path: Path) -> None:
    """One precedence rule (as batch): the regimen's own context wins over the options, which
    fill what it leaves unset; the output says where each value came from."""
    rec = tmp_path / "rec.json"
    rec.write_text(json.dumps({"id": "x", "items": TRAMADOL,
                               "context": {"age": 80, "crcl": 20}}))
    res = run("check", "-f", str(rec), "--age", "50", "--weeks-since-surgery", "3",
              "--format", "json")
    summary = json.loads(res.stdout)["summary"]
    unset = {"weight": None, "egfr": None, "opioid_tolerant": None}
    assert summary["context"] == {
        "age": 80, "crcl": 20, "hepatic_impairment": None, "weeks_since_surgery": 3, **unset}
    assert summary["context_sources"] == {
        "age": "input", "crcl": "input", "hepatic_impairment": None,
        "weeks_since_surgery": "options", **unset}


def test_check_file_unknown_top_level_key_is_an_error(tmp_path: Path) -> None:
    rec = tmp_path / "rec.json"
    rec.write_text(json.dumps({"items": TRAMADOL, "contxt": {"age": 80}}))
    one_line_error(run("check", "-f", str(rec)), str(rec), "contxt")


def test_check_file_bad_context_value_is_an_error(tmp_path: Path) -> None:
    rec = tmp_path / "rec.json"
    rec.write_text(json.dumps({"items": TRAMADOL, "context": {"crcl": "nan"}}))
    one_line_error(run("check", "-f", str(rec)), str(rec), "context.crcl")
    rec.write_text(json.dumps({"items": TRAMADOL, "context": ["age", 80]}))
    one_line_error(run("check", "-f", str(rec)), str(rec), "context")


# -- 5. validators ------------------------------------------------------------------------------

class Order(BaseModel):
    apap_mg_per_day: Annotated[float, within_daily_max("acetaminophen", unit="mg")]


@pytest.mark.parametrize("value", [float("nan"), "nan", "NaN", float("inf"), "-inf", -1, -0.5])
def test_validator_rejects_non_finite_and_negative_amounts(value: Any) -> None:
    with pytest.raises(ValidationError):
        Order(apap_mg_per_day=value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -10, True, "100"])
def test_check_daily_dose_rejects_what_is_not_an_amount(value: Any) -> None:
    with pytest.raises(ValueError, match="amount per day"):
        check_daily_dose("tramadol", value, "mg")


def test_validator_accepts_zero_and_the_maximum() -> None:
    assert Order(apap_mg_per_day=0).apap_mg_per_day == 0
    assert Order(apap_mg_per_day=4000).apap_mg_per_day == 4000


def test_validator_unknown_product_is_a_validation_error() -> None:
    class Bad(BaseModel):
        x: Annotated[float, within_daily_max("notadrug")]

    with pytest.raises(ValidationError, match="notadrug"):
        Bad(x=1)


def test_route_specific_limits_apply_only_with_that_route() -> None:
    """Methocarbamol's 3 g/day is for IV/IM; by mouth the maximum is higher."""
    oral = daily_max("methocarbamol", "mg")
    assert oral is not None and oral[0] > 3000
    assert check_daily_dose("methocarbamol", 4000, "mg") == 4000
    assert check_daily_dose("methocarbamol", 4000, "mg", route="oral") == 4000
    with pytest.raises(ValueError, match="3,000 mg/day"):
        check_daily_dose("methocarbamol", 4000, "mg", route="IV")
    with pytest.raises(ValueError, match="route"):
        check_daily_dose("methocarbamol", 4000, "mg", route="by pigeon")
    with pytest.raises(ValueError, match="route"):
        within_daily_max("methocarbamol", route="by pigeon")

    class Iv(BaseModel):
        mg: Annotated[float, within_daily_max("methocarbamol", route="iv")]

    with pytest.raises(ValidationError):
        Iv(mg=4000)


def test_without_a_route_the_default_route_applies_as_in_check() -> None:
    """No route given: the product's default route is assumed, as `medref check` does for a
    line that states none (ketorolac and clonidine have oral-only daily limits)."""
    ref = load_reference()
    seen = []
    for eid, e in ref.entries.items():
        days = [lim for lim in e.get("limits", ())
                if lim["kind"] == "period" and lim.get("period") == "day"
                and not lim.get("per_kg")]
        if days and all(lim.get("routes") for lim in days):
            own = [lim for lim in days if e.get("default_route") in lim["routes"]
                   and not lim.get("when")]
            if not own:
                continue  # every daily limit is conditional (enoxaparin by indication)
            seen.append(eid)
            lim = own[0]
            over = lim["amount"] * 1.5
            with pytest.raises(ValueError, match="exceeds"):
                check_daily_dose(eid, over, lim["unit"])
            line = check([f"{e['name']} {over / 4:g} {lim['unit']} q6h"])
            assert {"MR102", "MR301"} & {f.code for f in line.findings}, eid
    assert seen, "no product with route-specific daily limits only (ketorolac, clonidine)"


# -- 6. exit_code's severity --------------------------------------------------------------------

def test_exit_code_unknown_severity_is_a_value_error() -> None:
    result = check(["ibuprofen 400 mg tid"])
    with pytest.raises(ValueError, match="info, warning, error"):
        result.exit_code("fatal")
    with pytest.raises(ValueError, match="fail_on"):
        checked_regimen("fatal")
    assert result.exit_code("info") == 1


# -- 7. --version reports the data set in use ---------------------------------------------------

@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    src = bundled_data_dir()
    assert src is not None
    dst = tmp_path / "site-data"
    shutil.copytree(src, dst)
    return dst


def test_version_reports_medref_data(data_copy: Path) -> None:
    info = load_reference(data_copy).info
    for result in (run("--version", env={"MEDREF_DATA": str(data_copy)}),
                   run("--data", str(data_copy), "--version"),
                   run("--version", "--data", str(data_copy))):
        assert result.exit_code == 0, result.output
        assert info.sha256[:16] in result.stdout and str(data_copy) in result.stdout


def test_version_names_an_unusable_data_set(tmp_path: Path) -> None:
    result = run("--version", env={"MEDREF_DATA": str(tmp_path / "nope")})
    assert result.exit_code == 0
    assert "unavailable" in result.stdout and "nope" in result.stdout


def test_group_data_option_reaches_the_command(tmp_path: Path, data_copy: Path) -> None:
    """``medref --data DIR check`` uses DIR (never silently the bundled data); a command's
    own --data wins."""
    res = run("--data", str(tmp_path / "nope"), "check", "ibuprofen 400 mg tid")
    one_line_error(res, "nope")
    res = run("--data", str(tmp_path / "nope"), "check", "--data", str(data_copy),
              "--format", "json", "ibuprofen 400 mg tid")
    assert json.loads(res.stdout)["summary"]["data"]["path"] == str(data_copy)


# -- 8. check -f CSV with a sig column ----------------------------------------------------------

def test_check_csv_with_sig_column(tmp_path: Path) -> None:
    lines = ["tramadol 50-100 mg q4-6h prn", "Advil 800 mg tid"]
    path = tmp_path / "meds.csv"
    path.write_text("sig\n" + "\n".join(f'"{x}"' for x in lines) + "\n")
    got = run("check", "-f", str(path), "--format", "json")
    want = run("check", *lines, "--format", "json")
    assert got.exit_code == want.exit_code == 1, got.output
    assert json.loads(got.stdout)["findings"] == json.loads(want.stdout)["findings"]


def test_check_csv_takes_the_batch_columns(tmp_path: Path) -> None:
    """A one-record batch CSV (id, sig, item and context columns) checks as that record."""
    path = tmp_path / "rec.csv"
    path.write_text("id,sig,name,dose,unit,frequency,age,crcl\n"
                    "r1,tramadol 100 mg q6h,,,,,80,20\n"
                    "r1,,ibuprofen,400,mg,tid,,\n")
    got = run("check", "-f", str(path), "--format", "json", "--fail-on", "error")
    want = run("check", "tramadol 100 mg q6h", "ibuprofen 400 mg tid", "--age", "80",
               "--crcl", "20", "--format", "json")
    assert got.exit_code == 1, got.output
    assert json.loads(got.stdout)["findings"] == json.loads(want.stdout)["findings"]
    path.write_text("id,sig\nr1,tramadol 100 mg q6h\nr2,ibuprofen 400 mg tid\n")
    one_line_error(run("check", "-f", str(path)), str(path), "id")
    path.write_text("sig,age\ntramadol 100 mg q6h,80\nibuprofen 400 mg tid,70\n")
    one_line_error(run("check", "-f", str(path)), f"{path}:3", "age")


def test_check_csv_without_sig_needs_a_name_column(tmp_path: Path) -> None:
    path = tmp_path / "meds.csv"
    path.write_text("dose,unit,frequency\n800,mg,tid\n")
    one_line_error(run("check", "-f", str(path)), str(path), "name")

