"""Claims screening: per-day regimens from dispensing claims, overlap findings on exactly the
overlapping days, unreadable rows reported, per-dose checks not applied to daily amounts."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

import medref
import medref.claims
from medref.api import engine_for
from medref.claims import screen_member
from medref.cli import cli
from medref.readers.claims import Claim, ClaimError, iter_claims
from medref.readers.lines import Lexicon
from medref.reference import load_reference

HEADER = "member_id,fill_date,ndc,drug,quantity,days_supply\n"


def _read(text: str) -> list[Claim | ClaimError]:
    return list(iter_claims(io.StringIO(HEADER + text), Lexicon(load_reference())))


def _screen(text: str) -> dict[str, Any]:
    rows = [r for r in _read(text) if isinstance(r, Claim)]
    res = screen_member(rows[0].member, rows, engine=engine_for(load_reference()))
    out: dict[str, Any] = res.to_dict()
    return out


def D(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


# -- a hand-computed member ------------------------------------------------------------------

MEMBER = """m1,2026-01-01,,PERCOCET 10-325 MG TAB,120,30
m1,2026-01-10,,ALPRAZOLAM 0.5 MG TAB,90,30
m1,2026-01-31,,PERCOCET 10-325 MG TAB,120,30
m1,2026-02-09,,ALPRAZOLAM 0.5 MG TAB,90,30
"""


def test_overlap_is_found_on_exactly_the_overlapping_days() -> None:
    """Percocet covers Jan 1-30 and Jan 31-Mar 1; alprazolam Jan 10-Feb 8 and Feb 9-Mar 10:
    they overlap Jan 10-Mar 1 = 21 + 9 + 21 = 51 days (hand count)."""
    out = _screen(MEMBER)
    cob = [f for f in out["findings"] if f["code"] == "MR701"]
    assert len(cob) == 1
    assert cob[0]["days"] == [["2026-01-10", "2026-03-01"]]
    assert "51 days" in cob[0]["message"]
    mr303 = [f for f in out["findings"] if f["code"] == "MR303"]
    days = sorted(tuple(d) for f in mr303 for d in f["days"])
    assert days == [("2026-01-10", "2026-01-30"), ("2026-01-31", "2026-02-08"),
                    ("2026-02-09", "2026-03-01")]


@pytest.mark.parametrize("benzo", ["00003015950",  # OXAZEPAM 30 MG CAPSULE (CDC 2018)
                                   "CHLORDIAZEPOXIDE HCL 25 MG CAP",
                                   "TRIAZOLAM 0.25 MG TAB", "CLORAZEPATE DIPOTASSIUM 7.5 MG TAB"])
def test_a_benzodiazepine_once_unknown_counts_in_the_overlap(benzo: str) -> None:
    """Oxazepam, chlordiazepoxide, triazolam and clorazepate were unknown names (MR002), so
    their fills with an opioid made no MR701: the same member as above, with one of them."""
    ndc, drug = (benzo, "") if benzo.isdigit() else ("", benzo)
    out = _screen("".join(
        f"m1,{day},,PERCOCET 10-325 MG TAB,120,30\nm1,{fill},{ndc},{drug},30,30\n"
        for day, fill in (("2026-01-01", "2026-01-10"), ("2026-01-31", "2026-02-09"))))
    assert "MR002" not in [f["code"] for f in out["findings"]]
    (cob,) = [f for f in out["findings"] if f["code"] == "MR701"]
    assert cob["days"] == [["2026-01-10", "2026-03-01"]] and "51 days" in cob["message"]


def test_short_overlap_is_not_cob() -> None:
    """29 days of overlap (Jan 2-30) is below the measure's 30 cumulative days."""
    out = _screen("""m1,2026-01-01,,PERCOCET 10-325 MG TAB,120,30
m1,2026-03-01,,PERCOCET 10-325 MG TAB,60,15
m1,2026-01-02,,ALPRAZOLAM 0.5 MG TAB,29,29
m1,2026-02-15,,ALPRAZOLAM 0.5 MG TAB,10,10
""")
    assert "MR701" not in [f["code"] for f in out["findings"]]
    assert [f["days"] for f in out["findings"] if f["code"] == "MR303"] == [
        [["2026-01-02", "2026-01-30"]]]


def test_an_early_refill_carries_over_instead_of_doubling() -> None:
    """Percocet 10/325 4 a day (60 MME): a refill 5 days early is not 8 a day (120 MME) on
    the overlap; its 30 days start when the first fill's supply ends."""
    out = _screen("""m1,2026-01-01,,PERCOCET 10-325 MG TAB,120,30
m1,2026-01-26,,PERCOCET 10-325 MG TAB,120,30
""")
    codes = [f["code"] for f in out["findings"]]
    assert "MR306" not in codes and "MR008" not in codes
    assert out["summary"]["last_day"] == "2026-03-01"
    notes = [f["message"] for f in out["findings"] if f["code"] == "MR010"]
    assert any("early refill" in m and "2026-01-31" in m for m in notes)


def test_sustained_high_mme_over_90_days() -> None:
    """Oxycodone 30 mg, 4 a day = 120 mg = 180 MME/day, three 30-day fills: a 90-day episode
    averaging 180 MME/day (MR702); two fills (60 days) are not an episode of 90 days."""
    fills = "".join(f"m1,2026-0{m}-01,,OXYCODONE HCL 30 MG TAB,120,30\n" for m in (1, 2, 3))
    fills = fills.replace("2026-02-01", "2026-01-31").replace("2026-03-01", "2026-03-02")
    out = _screen(fills)
    ohd = [f for f in out["findings"] if f["code"] == "MR702"]
    assert len(ohd) == 1
    assert ohd[0]["days"] == [["2026-01-01", "2026-03-31"]]
    assert "180.0 MME/day" in ohd[0]["message"] and "90 days" in ohd[0]["message"]
    two = _screen("".join(fills.splitlines(keepends=True)[:2]))
    assert "MR702" not in [f["code"] for f in two["findings"]]


def test_per_dose_checks_do_not_apply_to_daily_amounts() -> None:
    """Ibuprofen 800 mg, 90 tablets for 30 days: 2,400 mg a day is fine; it is not a single
    dose of 2,400 mg (no MR101); 150 tablets for 30 days (4,000 mg a day) is an MR102."""
    ok = _screen("m1,2026-01-01,,IBUPROFEN 800 MG TAB,90,30\n")
    assert not [f for f in ok["findings"] if f["code"] in ("MR101", "MR102", "MR103")]
    high = _screen("m1,2026-01-01,,IBUPROFEN 800 MG TAB,150,30\n")
    assert [f["severity"] for f in high["findings"] if f["code"] == "MR102"] == ["error"]


def test_a_combination_counts_every_ingredient() -> None:
    """Hydrocodone/APAP 10/325, 14 a day: 4,550 mg acetaminophen a day (MR102)."""
    out = _screen("m1,2026-01-01,,HYDROCODONE-ACETAMINOPHEN 10-325 MG TAB,420,30\n")
    assert "MR102" in [f["code"] for f in out["findings"]]


# -- every day's regimen is checked as check would -------------------------------------------

DRUGS = ["PERCOCET 10-325 MG TAB", "ALPRAZOLAM 0.5 MG TAB", "IBUPROFEN 800 MG TAB",
         "MELOXICAM 15 MG TAB", "OXYCODONE HCL 10 MG TAB", "GABAPENTIN 600 MG TAB",
         "ACETAMINOPHEN 500 MG TAB", "CYCLOBENZAPRINE 10 MG TAB", "TRAMADOL 50 MG TAB"]
FILL = st.tuples(st.sampled_from(DRUGS), st.integers(0, 60), st.sampled_from([7, 15, 30]),
                 st.integers(1, 8))


@settings(max_examples=25)
@given(fills=st.lists(FILL, min_size=1, max_size=5))
@example(fills=[("PERCOCET 10-325 MG TAB", 1, 7, 3), ("OXYCODONE HCL 10 MG TAB", 0, 7, 1),
                ("OXYCODONE HCL 10 MG TAB", 0, 7, 1)])  # an early refill keeps line order
def test_each_day_equals_check_on_that_days_regimen(
        fills: list[tuple[str, int, int, int]]) -> None:
    start = dt.date(2026, 1, 1)
    text = "".join(f"m1,{(start + dt.timedelta(days=o)).isoformat()},,{drug},"
                   f"{per * days},{days}\n" for drug, o, days, per in fills)
    rows = medref.claims.adjust_refills([r for r in _read(text) if isinstance(r, Claim)])
    res = screen_member("m1", rows, engine=engine_for(load_reference()))
    by_day: dict[dt.date, set[tuple[str, str, str]]] = {}
    for f in res.findings:
        if f.code in ("MR701", "MR702"):
            continue
        for a, b in f.days:
            d = a
            while d <= b:
                by_day.setdefault(d, set()).add((f.code, f.severity, f.message))
                d += dt.timedelta(days=1)
    last = max(r.end for r in rows)
    day = start
    while day <= last:
        active = [r.line for r in rows if r.covers(day)]
        want = {(f.code, f.severity, f.message) for f in medref.check(active).findings} \
            if active else set()
        assert by_day.get(day, set()) == want, day
        day += dt.timedelta(days=1)


# -- the command -----------------------------------------------------------------------------

def test_the_command_reports_unreadable_rows_and_screens_the_rest(tmp_path: Path) -> None:
    p = tmp_path / "claims.csv"
    p.write_text(HEADER + MEMBER + "m2,not-a-date,,IBUPROFEN 800 MG TAB,90,30\n"
                 "m2,2026-01-01,,IBUPROFEN 800 MG TAB,90,0\n"
                 "m3,2026-01-01,00406-9999-01,,120,30\n"
                 "m4,2026-01-01,,IBUPROFEN 800 MG TAB,90,30\n"
                 "m5,2026-01-01,00406-0512-01,,120,30\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(cli, ["claims", str(p), "-o", str(out)])
    assert res.exit_code == 2, res.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    errors = [r for r in rows if "error" in r]
    assert [(e["member"], e["line"]) for e in errors] == [("m2", 6), ("m2", 7), ("m3", 8)]
    assert "NDC 00406999901 is not in the NDC file" in errors[2]["error"]
    members = [r["member"] for r in rows if "findings" in r]
    assert members == ["m1", "m4", "m5"]  # m5: an NDC of the CDC file, read


def test_a_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "claims.csv"
    p.write_text("member_id,fill_date,drug,quantity\nm1,2026-01-01,IBUPROFEN 800 MG TAB,9\n",
                 encoding="utf-8")
    res = CliRunner().invoke(cli, ["claims", str(p)])
    assert res.exit_code == 2
    assert "days_supply" in res.stderr and "Traceback" not in res.stderr


def test_generated_claims_are_screened_member_by_member() -> None:
    rnd = random.Random(3)
    lines = []
    for m in range(40):
        for _ in range(rnd.randint(1, 4)):
            day = dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randint(0, 90))
            days = rnd.choice([10, 30])
            lines.append(f"m{m},{day.isoformat()},,{rnd.choice(DRUGS)},{days * 3},{days}\n")
    rows = _read("".join(lines))
    assert all(isinstance(r, Claim) for r in rows)
    got = list(medref.claims.screen(rows))
    assert [r.member for r in got] == list(dict.fromkeys(r.member for r in rows
                                                         if isinstance(r, Claim)))


def test_claim_errors_from_screen_are_yielded_not_dropped() -> None:
    rows = _read("m1,2026-01-01,,IBUPROFEN 800 MG TAB,90,30\nm1,x,,IBUPROFEN,1,1\n")
    got = list(medref.claims.screen(rows))
    assert isinstance(got[0], ClaimError) and got[0].row == 3
    assert len(got) == 2


@pytest.mark.parametrize("drug", ["PERCOCET 10-325 MG TAB", "ALPRAZOLAM 0.5 MG TAB",
                                  "HYDROCODONE-ACETAMINOPHEN 10-325 MG TAB",
                                  "OXYCODONE HCL 10 MG TAB", "FENTANYL 25 MCG/HR PATCH"])
def test_descriptions_are_read(drug: str) -> None:
    rows = _read(f"m1,2026-01-01,,{drug},30,30\n")
    assert isinstance(rows[0], Claim)
    assert rows[0].line.readable and rows[0].line.ingredients, rows[0].line


def test_a_w_slash_description_counts_both_ingredients() -> None:
    """CDC's and the claims' spelling ``TYLENOL W/CODEINE #3``: 120 tablets over 30 days are
    1,200 mg acetaminophen and 120 mg codeine a day (the label's 300/30), nothing unread."""
    (claim,) = _read("m1,2026-01-01,,TYLENOL W/CODEINE #3,120,30\n")
    assert _ingredients(claim) == {"acetaminophen": 1200, "codeine": 120}
    assert isinstance(claim, Claim) and claim.line.unparsed == ()


# -- NDCs (CDC's 2018 product file) ----------------------------------------------------------

def _ingredients(claim: Claim | ClaimError) -> dict[str, float]:
    assert isinstance(claim, Claim), claim
    from medref.dosing import resolve
    ref = load_reference()
    r = resolve(claim.line, ref.knowledge)
    out = {}
    for i in r.ingredient_ids:
        d = r.dose_of(i)
        assert d is not None and d.daily is not None
        out[i] = d.daily
    return out


@pytest.mark.parametrize(("text", "want"), [
    ("12280003500", "12280003500"), ("1228-0003-50", "01228000350"),
    ("12280-035-00", "12280003500"), ("12280-0035-0", "12280003500"),
    ("12280-0035-00", "12280003500"), ("1228000350", None), ("12280-35-00", None),
    ("NDC", None), ("", None)])
def test_ndc_forms(text: str, want: str | None) -> None:
    from medref.readers.ndc import normalize_ndc
    assert normalize_ndc(text) == want


def test_an_ndc_alone_is_read_by_its_product() -> None:
    """CDC rows (opioids.csv): 12280003500 NORCO, hydrocodone 10 mg tablet (acetaminophen
    not in the file: the strength on file with hydrocodone 10 mg is 10/325); benzos.csv
    00009002901 XANAX 0.25 mg (the file's first Xanax row); 30 a day over 30 days = 1 a
    day."""
    rows = _read("m1,2026-01-01,12280003500,,30,30\nm1,2026-01-01,00009002901,,60,30\n")
    assert _ingredients(rows[0]) == {"hydrocodone": 10.0, "acetaminophen": 325.0}
    assert isinstance(rows[0], Claim) and rows[0].drug == "NDC 12280003500 NORCO"
    assert _ingredients(rows[1]) == {"alprazolam": 0.5}


@pytest.mark.parametrize(("ndc", "apap", "codeine"), [("00045051160", 1200, 60),
                                                     ("00045051360", 1200, 120),
                                                     ("00045051560", 1200, 240)])
def test_an_ndc_whose_name_names_its_strength_uses_it(ndc: str, apap: float,
                                                      codeine: float) -> None:
    """CDC gives Tylenol w/ Codeine #2, #3 and #4 (00045051160, 00045051360, 00045051560)
    their codeine only (15, 30, 60 mg); the name itself says 300/15, 300/30 and 300/60, so
    120 tablets over 30 days are read exactly, not at the strongest strength with that much
    codeine (500/15 and 500/30 before; #2's name was not read as its strength until ``w/``
    was folded to ``with``)."""
    (claim,) = _read(f"m1,2026-01-01,{ndc},,120,30\n")
    assert _ingredients(claim) == {"acetaminophen": apap, "codeine": codeine}
    assert isinstance(claim, Claim) and not claim.line.strength_assumed


@pytest.mark.parametrize(("drug", "expected"), [
    ("HYDROCODONE BITARTRATE-ACETAMINOPHEN 10-325 MG TAB",
     {"hydrocodone": 40.0, "acetaminophen": 1300.0}),
    ("OXYCODONE HCL-ACETAMINOPHEN 5-325 MG TAB", {"oxycodone": 20.0, "acetaminophen": 1300.0}),
    ("ACETAMINOPHEN-CODEINE PHOSPHATE #3 TAB", {"acetaminophen": 1200.0, "codeine": 120.0})])
def test_a_description_naming_the_salt_keeps_every_ingredient(
        drug: str, expected: dict[str, float]) -> None:
    """CDC's product names, as claims descriptions carry them, write the first ingredient's
    salt (``HYDROCODONE BITARTRATE-ACETAMINOPHEN``); before, the acetaminophen was dropped as
    words not understood."""
    (claim,) = _read(f"m1,2026-01-01,,{drug},120,30\n")
    assert _ingredients(claim) == expected
    assert isinstance(claim, Claim) and claim.line.unparsed == ()


def test_an_ndc_claim_is_screened_as_its_description() -> None:
    """The same fills by NDC and by description give the same findings (the drug text
    aside)."""
    fills = (("2026-01-01", "2026-01-10"), ("2026-01-31", "2026-02-09"))
    by_ndc = _screen("".join(f"m1,{a},12280003500,,120,30\nm1,{b},00009002901,,90,30\n"
                             for a, b in fills))
    by_text = _screen("".join(f"m1,{a},,HYDROCODONE-ACETAMINOPHEN 10-325 MG TAB,120,30\n"
                              f"m1,{b},,ALPRAZOLAM 0.25 MG TAB,90,30\n" for a, b in fills))

    def codes(out: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
        return sorted((f["code"], f["severity"], tuple(f["items"]))
                      for f in out["findings"] if f["code"] not in ("MR010", "MR009"))
    assert codes(by_ndc) == codes(by_text)
    assert any(f["code"] == "MR701" for f in by_ndc["findings"])


def test_ndc_rows_that_cannot_be_read_are_errors() -> None:
    rows = _read("m1,2026-01-01,99999999999,,30,30\nm1,2026-01-01,12-34,,30,30\n"
                 "m1,2026-01-01,,,30,30\n")
    assert [type(r).__name__ for r in rows] == ["ClaimError"] * 3
    errors = [r.error for r in rows if isinstance(r, ClaimError)]
    assert "not in the NDC file" in errors[0]
    assert "not an NDC" in errors[1]
    assert "both empty" in errors[2]


def test_every_cdc_ndc_is_read_or_reported() -> None:
    """No NDC of the file is silently passed: each becomes a line that is checked, or one
    whose status (unknown, unverifiable) is a finding; a combination checked has every
    ingredient the product layer knows."""
    from medref.dosing import resolve
    ref = load_reference()
    from medref.reference import bundled_data_dir
    root = bundled_data_dir()
    assert root is not None
    data = json.loads((root / "ndc.json").read_text())
    lex = Lexicon(ref)
    rng = random.Random(7)
    codes = rng.sample(sorted(data["ndc"]), 400)
    from medref.readers.claims import read_claim
    for code in codes:
        c = read_claim({"member_id": "m", "fill_date": "2026-01-01", "ndc": code,
                        "quantity": "30", "days_supply": "30"}, 2, lex)
        assert isinstance(c, Claim), (code, c)
        r = resolve(c.line, ref.knowledge)
        generic = data["products"][data["ndc"][code]]["generic"].lower()
        if r.status == "checked" and "acetaminophen" in generic:
            assert "acetaminophen" in r.ingredient_ids, (code, generic)
        out = medref.check([c.line], reference=ref)
        if r.status != "checked":
            assert out.findings, code


def test_a_broken_ndc_file_fails_loudly(tmp_path: Path) -> None:
    import shutil

    from medref.errors import DataError
    from medref.reference import bundled_data_dir
    src = bundled_data_dir()
    assert src is not None
    for f in src.glob("*.json"):
        shutil.copy(f, tmp_path / f.name)
    doc = json.loads((tmp_path / "ndc.json").read_text())
    doc["ndc"]["12280003500"] = 10**9
    (tmp_path / "ndc.json").write_text(json.dumps(doc))
    ref = load_reference(tmp_path)
    with pytest.raises(DataError) as exc:
        ref.ndc_product("12280003500")
    assert "ndc.json" in str(exc.value) and "12280003500" in str(exc.value)
    assert "row" in str(exc.value)


def test_an_rxnorm_style_description_keeps_every_ingredient() -> None:
    """A regression: 'A 325 MG / B 7.5 MG Oral Tablet' was cut to its first ingredient."""
    rows = _read("m1,2026-01-01,,Acetaminophen 325 MG / Hydrocodone Bitartrate 7.5 MG Oral "
                 "Tablet,30,30\n")
    assert _ingredients(rows[0]) == {"acetaminophen": 325.0, "hydrocodone": 7.5}


@pytest.mark.parametrize(("drug", "product"), [
    ("HYDROCODONE-ACETAMINOPHEN 10-325 MG TAB", "hydrocodone-acetaminophen"),
    ("OXYCODONE-ACETAMINOPHEN 5-325 MG TAB", "oxycodone-acetaminophen"),
    ("Acetaminophen 325 MG / Hydrocodone Bitartrate 7.5 MG Oral Tablet",
     "hydrocodone-acetaminophen"),
    ("PERCOCET 10-325 MG TAB", "percocet"),
    ("Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet [Percocet]", "percocet"),
])
def test_a_generic_description_is_its_generic_product_and_a_brand_its_brand(
        drug: str, product: str) -> None:
    """A regression: a generic hydrocodone/APAP claim was shown as Norco (the first product
    on file with those ingredients and amounts)."""
    rows = _read(f"m1,2026-01-01,,{drug},30,30\n")
    assert isinstance(rows[0], Claim) and rows[0].line.product == product


def test_parquet_claims_equal_the_csv(tmp_path: Path) -> None:
    """The same claims as typed Parquet columns (dates, an NDC stored as a number, which
    loses its leading zeros; whole-number floats) give the same members' results as the
    CSV, and a row that cannot be read is still an error row (numbered from 1)."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    csv_text = (HEADER + MEMBER + "m2,2026-01-05,00009002901,,60,30\n"
                "m2,2026-01-05,,IBUPROFEN 800 MG TAB,90,0\n")
    (tmp_path / "c.csv").write_text(csv_text, encoding="utf-8")
    lines = [x.split(",") for x in csv_text.splitlines()[1:]]
    table = pa.table({
        "member_id": [x[0] for x in lines],
        "fill_date": [D(x[1]) for x in lines],
        "ndc": [int(x[2]) if x[2] else None for x in lines],
        "drug": [x[3] or None for x in lines],
        "quantity": [float(x[4]) for x in lines],
        "days_supply": [int(x[5]) for x in lines]})
    pq.write_table(table, tmp_path / "c.parquet")
    outs = {}
    for f in ("c.csv", "c.parquet"):
        res = CliRunner().invoke(cli, ["claims", str(tmp_path / f), "-o", str(tmp_path / "o")])
        assert res.exit_code == 2, res.output
        outs[f] = [json.loads(x) for x in (tmp_path / "o").read_text().splitlines()]
    assert outs["c.parquet"][0] == {**outs["c.csv"][0], "line": 6}  # CSV line 7 = row 6
    strip = [{**r, "findings": [{k: v for k, v in f.items() if k != "claims"}
                                for f in r["findings"]]} for r in outs["c.csv"][1:]]
    got = [{**r, "findings": [{k: v for k, v in f.items() if k != "claims"}
                              for f in r["findings"]]} for r in outs["c.parquet"][1:]]
    assert got == strip
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    res = CliRunner().invoke(cli, ["claims", str(bad)])
    assert res.exit_code == 2 and "not a readable Parquet file" in res.output
    assert "Traceback" not in res.output


def test_a_buprenorphine_patch_is_worn_7_days_a_fentanyl_patch_72_hours() -> None:
    """Butrans label: "Each Butrans patch is intended to be worn for 7 days": 4 patches over
    28 days is one patch worn at all times, as 10 fentanyl patches over 30 days are (each
    worn 72 hours). Read as 72-hour patches, the buprenorphine dose was 3/7 of the truth."""
    rows = _read("m1,2026-01-01,,BUPRENORPHINE 10 MCG/HR PATCH,4,28\n"
                 "m2,2026-01-01,,FENTANYL 25 MCG/HR PATCH,10,30\n")
    assert _ingredients(rows[0]) == {"buprenorphine": 10.0}
    assert _ingredients(rows[1]) == {"fentanyl": 25.0}
    assert isinstance(rows[0], Claim) and "worn 7 days" in " ".join(rows[0].line.assumptions)
    by_ndc = _read("m3,2026-01-01,35356060504,,4,28\n")  # CDC 2018 file: BUTRANS 10 mcg/hr
    assert _ingredients(by_ndc[0]) == {"buprenorphine": 10.0}
