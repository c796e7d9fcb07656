"""Products: combinations, formulations, salts, strengths, counts, caps, steps and averages.

Each acceptance line of the products issue is a test here, through the public result (the
items' fields and the findings), plus the properties behind them.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import medref
from medref import CheckResult, Context
from medref.cli import cli
from medref.reference import load_reference

REF = load_reference()


def codes(r: CheckResult, code: str) -> list[medref.Finding]:
    return [f for f in r.findings if f.code == code]


def worst(r: CheckResult, *prefixes: str) -> str | None:
    """The most severe finding among codes starting with ``prefixes`` (None if none)."""
    hits = [f for f in r.findings if f.code.startswith(prefixes)]
    return hits[0].severity if hits else None


# -- the acceptance lines --------------------------------------------------------------------

def test_percocet_and_acetaminophen_sum_across_lines() -> None:
    r = medref.check(["acetaminophen 650 mg po q4h prn", "Percocet 10/325 1 tab po q6h prn"])
    (total,) = codes(r, "MR301")
    assert total.severity == "error" and total.items == ("acetaminophen",)
    assert "5,200 mg/day across 2 lines" in total.message
    assert "3,900 mg from 'acetaminophen 650 mg po q4h prn'" in total.message
    assert "1,300 mg from 'Percocet 10/325 1 tab po q6h prn'" in total.message
    (mme,) = codes(r, "MR305")
    assert mme.severity == "warning" and "60 MME/day" in mme.message
    assert r.summary.mme_per_day == 60
    item = r.items[1]
    assert (item.product, item.marketed_product, item.strength) == ("percocet", "percocet",
                                                                    "10/325")
    assert {g.id: g.daily_total for g in item.ingredients} == {"oxycodone": 40,
                                                               "acetaminophen": 1300}


def test_tylenol_number_3() -> None:
    r = medref.check(["Tylenol #3 2 tabs po q4h prn"])
    parts = {g.id: g for g in r.items[0].ingredients}
    assert parts["codeine"].daily_total == 360
    assert parts["codeine"].mme_per_day == pytest.approx(54)
    assert parts["acetaminophen"].daily_total == 3600
    (mme,) = codes(r, "MR305")
    assert mme.severity == "warning" and "54 MME/day" in mme.message
    assert not codes(r, "MR102") and not codes(r, "MR301")
    assert r.items[0].unparsed == () and r.items[0].status == "checked"


@pytest.mark.parametrize("spelled", ["Tylenol w/codeine #3", "TYLENOL W/CODEINE #3",
                                     "Tylenol w/ Codeine #3", "Tylenol with codeine #3"])
def test_with_written_w_slash_keeps_the_second_ingredient(spelled: str) -> None:
    """``w/codeine`` (as CDC's product file and claims descriptions write it) is read as
    ``w/ codeine``: the codeine is counted, never dropped as words not understood."""
    r = medref.check([f"{spelled} 2 tabs po q4h prn"])
    item = r.items[0]
    assert item.status == "checked" and item.unparsed == ()
    assert item.product == "tylenol-with-codeine" and item.strength == "#3 (300/30)"
    parts = {g.id: g for g in item.ingredients}
    assert parts["codeine"].mme_per_day == pytest.approx(54)
    assert not codes(r, "MR007")


@pytest.mark.parametrize(("plain", "slashed"), [
    ("oxycodone w/ APAP 5/325 1 tab q6h", "oxycodone w/APAP 5/325 1 tab q6h"),
    ("APAP w/ codeine 300/30 1 tab q6h", "APAP w/codeine 300/30 1 tab q6h")])
def test_a_w_slash_alias_reads_with_or_without_the_space(plain: str, slashed: str) -> None:
    a, b = medref.check([plain]), medref.check([slashed])
    assert a.items[0].status == b.items[0].status == "checked"
    assert a.items[0].product == b.items[0].product is not None
    assert [f.code for f in a.findings] == [f.code for f in b.findings]


def test_w_slash_o_is_left_alone() -> None:
    from medref.text import normalize
    assert normalize("Ibuprofen 400 mg w/o food") == "ibuprofen 400 mg w/o food"
    assert normalize("x w/out food w/in 1 h") == "x w/out food w/in 1 h"
    assert normalize("Tylenol W/Codeine #3") == "tylenol with codeine #3"
    assert normalize("x w/ yz") == normalize("x w/yz") == "x with yz"
    assert normalize("bw/day") == "bw/day"  # "w/" inside a word is not "with"


@pytest.mark.parametrize(("spelled", "product", "strength"), [
    # the Tylenol with Codeine numbers, however the name and number are written
    ("Tylenol w/ Codeine #2", "tylenol-with-codeine", "#2 (300/15)"),
    ("Tylenol w/codeine #2", "tylenol-with-codeine", "#2 (300/15)"),
    ("Tylenol No. 2", "tylenol-with-codeine", "#2 (300/15)"),
    ("Tylenol w/ codeine No. 3", "tylenol-with-codeine", "#3 (300/30)"),
    ("Tylenol w/ codeine 300/30", "tylenol-with-codeine", "#3 (300/30)"),
    ("T#3", "tylenol-with-codeine", "#3 (300/30)"),
    # the generic line, numbered as Tylenol with Codeine is (its data note)
    ("APAP/codeine #2", "acetaminophen-codeine", "300/15"),
    ("APAP/codeine #3", "acetaminophen-codeine", "300/30"),
    ("APAP w/ codeine #3", "acetaminophen-codeine", "300/30"),
    ("acetaminophen with codeine #3", "acetaminophen-codeine", "300/30"),
    ("acetaminophen-codeine no. 4", "acetaminophen-codeine", "300/60"),
    ("ACETAMINOPHEN-CODEINE #3 TAB", "acetaminophen-codeine", "300/30")])
def test_a_numbered_codeine_product_reads_its_strength(spelled: str, product: str,
                                                       strength: str) -> None:
    """Before, ``Tylenol w/ Codeine #2`` was plain acetaminophen (the codeine dropped as
    words not understood), ``Tylenol No. 2`` a second dose, and ``APAP/codeine #3`` the
    strongest strength assumed (500/60)."""
    r = medref.check([f"{spelled} 1 tab po q6h"])
    item = r.items[0]
    assert (item.product, item.strength, item.status) == (product, strength, "checked")
    assert item.unparsed == ()
    assert not codes(r, "MR007") and not codes(r, "MR010") and not codes(r, "MR001")
    codeine = {g.id: g for g in item.ingredients}["codeine"]
    assert codeine.daily_total == 4 * float(strength.rstrip(")").split("/")[1])


@pytest.mark.parametrize("line", ["T4 100 mcg daily", "T3 25 mcg daily", "T3 1 tab q6h"])
def test_t3_and_t4_are_not_tylenol(line: str) -> None:
    """``T3``/``T4`` are also liothyronine and levothyroxine: read as Tylenol with Codeine,
    ``T4 100 mcg daily`` was a fully checked codeine line. They are unknown names (MR002)."""
    r = medref.check([line])
    assert r.items[0].status == "unknown" and codes(r, "MR002")


@pytest.mark.parametrize(("line", "problem"), [
    ("Percocet 100 mcg daily", "100 mcg is not a strength of Percocet"),
    ("Percocet 7 mg q6h", "7 mg is not a strength of Percocet"),
    ("Percocet 10 mcg q6h", "10 mcg is not a strength of Percocet")])  # was 10/325
def test_an_amount_that_is_no_strength_of_a_combination_is_not_dropped(
        line: str, problem: str) -> None:
    """Before, the amount was dropped and the strongest strength assumed (10/325), and the
    line counted as checked."""
    r = medref.check([line])
    assert r.items[0].status == "unparseable"
    (f,) = codes(r, "MR001")
    assert problem in f.message


def test_an_amount_of_any_component_still_assumes_the_strongest() -> None:
    r = medref.check(["Percocet 325 mg 1 tab q6h"])  # every Percocet has 325 mg: which?
    assert r.items[0].strength == "10/325" and codes(r, "MR010") and not codes(r, "MR001")


def test_w_slash_before_an_administration_word_reads_as_with() -> None:
    plain = medref.check(["ibuprofen 400 mg po tid with meals", "Tylenol #3 1 tab q6h with food"])
    slashed = medref.check(["ibuprofen 400 mg po tid w/ meals", "Tylenol #3 1 tab q6h w/food"])
    assert not codes(slashed, "MR007")
    assert [(f.code, f.lines) for f in slashed.findings] == [
        (f.code, f.lines) for f in plain.findings]


def test_caplets_are_counted() -> None:
    r = medref.check(["Tylenol 650 mg 2 caplets po q6h"])
    assert r.items[0].daily_total == 5200
    (f,) = codes(r, "MR102")
    assert f.severity == "error" and "5,200 mg/day" in f.message


def test_amrix_is_extended_release() -> None:
    r = medref.check(["Amrix 15 mg po daily"])
    assert r.items[0].status == "checked" and r.items[0].formulation == "ER"
    assert all(f.severity == "info" for f in r.findings if f.category in
               ("dose-high", "daily-max", "dose-low"))
    r = medref.check(["Amrix 45 mg po daily"])
    (f,) = codes(r, "MR102")
    assert f.severity == "error" and "30 mg/day" in f.message


def test_tramadol_er_is_judged_by_its_own_maximum() -> None:
    r = medref.check(["tramadol ER 200 mg po bid"])
    errors = [f for f in r.findings if f.severity == "error"]
    assert [f.code for f in errors] == ["MR102"]
    assert "300 mg/day" in errors[0].message and "ER" in errors[0].message
    assert not codes(r, "MR101")


def test_calcium_carbonate_is_forty_percent_elemental() -> None:
    r = medref.check(["calcium carbonate 1250 mg po bid"], Context(age=67))
    assert r.items[0].daily_total == 1000 and r.items[0].product == "calcium-carbonate"
    assert not codes(r, "MR401")


@pytest.mark.parametrize(("sig", "per_day", "finding"), [
    ("vitamin D3 50,000 IU po monthly", 1643.8, False),
    ("vitamin D3 50,000 IU po weekly", 7142.9, True),
])
def test_doses_less_often_than_daily_are_averaged(sig: str, per_day: float,
                                                  finding: bool) -> None:
    r = medref.check([sig])
    item = r.items[0]
    assert item.status == "checked" and item.daily_average
    assert item.daily_total == pytest.approx(per_day, abs=0.1)
    ul = codes(r, "MR401")
    assert bool(ul) == finding
    if ul:
        assert "on average" in ul[0].message and "4,000 IU/day" in ul[0].message


def test_a_taper_reads_every_step() -> None:
    r = medref.check(["prednisone 40 mg po daily x 3 days then 20 mg po daily x 3 days"])
    item = r.items[0]
    assert item.unparsed == () and item.steps == 2 and item.duration_days == 6
    assert item.dose == 40  # the highest day


@pytest.mark.parametrize(("line", "dose", "daily"), [
    ("ibuprofen 200 mg tablets: take 4 tablets tid x 3 days then 2 tablets tid x 3 days "
     "then 1 tablet tid x 3 days", 800, 2400),
    ("Zithromax 250 mg take 2 tablets (500 mg) on day 1, then 1 tablet daily on days 2-5",
     500, 500),
    ("azithromycin 250 mg tablet: take 2 tablets on the first day, then 1 tablet daily for "
     "4 days", 500, 500),
    # the later step is the larger day: it is the one checked
    ("oxycodone 5 mg take 1 tab q6h x 2 days then 2 tabs q4h prn", 10, 60),
])
def test_a_step_counted_in_tablets_takes_the_strength_written_before(
        line: str, dose: float, daily: float) -> None:
    r = medref.check([line])
    item = r.items[0]
    assert not codes(r, "MR001") and item.unit == "mg"
    assert item.dose == dose and item.daily_total == daily


@pytest.mark.parametrize("line", [
    # two strengths: which one a later count means is not guessed
    "prednisone 10 mg take 2 tabs daily x 3 days then 5 mg take 1 tab daily then 2 tabs daily",
    # a count of another kind of unit than the strength's
    "ibuprofen 200 mg take 1 tablet tid x 3 days then 2 capsules q8h",
])
def test_a_count_whose_strength_is_not_certain_stays_unchecked(line: str) -> None:
    r = medref.check([line])
    assert codes(r, "MR001") or codes(r, "MR002") or codes(r, "MR007") \
        or r.items[0].status != "checked"


def test_written_cap_and_worst_case_both_reported() -> None:
    r = medref.check(["acetaminophen 500 mg 1-2 tabs q4h prn, max 8 tabs a day"])
    (f,) = codes(r, "MR011")
    assert "4,000 mg/day within the written maximum" in f.message
    assert "6,000 mg/day by the frequency" in f.message
    assert r.items[0].daily_total == 4000 and r.items[0].written_max is not None


@pytest.mark.parametrize(("line", "written", "daily"), [
    # more than the frequency's 6 doses a day: as doses it would cap nothing, so tablets
    ("tramadol 50 mg 1-2 tabs q4-6h prn max 8/day", True, 400),
    # one tablet a dose: tablets and doses agree
    ("Percocet 5/325 1 tab q4h prn max 4/day", True, 1300),
    # 4 tablets or 4 doses (8 tablets)? not read: the frequency's worst case, and MR007
    ("Percocet 5/325 1-2 tabs q4h prn max 4/day", False, 3900),
    # more than the frequency's worst case of tablets: milligrams, not a count; not read
    ("ibuprofen 200 mg 1 tab q4h prn max 1200/day", False, 1200),
    ("acetaminophen 500 mg 1-2 tabs q6h prn max 4000/day", False, 4000),
    # no frequency: not read
    ("Tylenol 500 mg 1 tab prn max 4/day", False, None),
    # no count of tablets on the line: not read
    ("tramadol 50 mg q6h prn max 8/day", False, 200)])
def test_a_cap_without_a_unit_counts_tablets_only_where_nothing_else_fits(
        line: str, written: bool, daily: float | None) -> None:
    r = medref.check([line])
    item = r.items[0]
    assert (item.written_max is not None) == written
    assert (item.unparsed == ()) == written and bool(codes(r, "MR007")) != written
    assert item.daily_total == daily


def test_scheduled_is_read() -> None:
    r = medref.check(["acetaminophen 1000 mg po q8h scheduled"])
    assert r.items[0].unparsed == () and r.items[0].status == "checked"
    assert not r.items[0].prn


def test_a_written_cap_above_the_label_is_a_finding() -> None:
    r = medref.check(["acetaminophen 500 mg 2 tabs q4h prn, max 12 tabs a day"])
    (f,) = codes(r, "MR012")
    assert "6,000 mg/day" in f.message


def test_lidoderm_on_and_off() -> None:
    r = medref.check(["Lidoderm 5% patch 3 patches daily, 12 hours on and 12 hours off"])
    assert r.items[0].unparsed == () and r.items[0].status == "checked"
    assert worst(r, "MR1", "MR3") in (None, "info")  # the seed's typical is one patch


def test_every_four_weeks_is_not_two_a_month() -> None:
    r = medref.check(["romosozumab 210 mg sc every 4 weeks"])
    assert not [f for f in r.findings if f.category == "daily-max"]


def test_oxycodone_tablet_sig_as_received() -> None:
    r = medref.check(["oxycodone 5 mg tablet: take 1-2 tablets by mouth every 4 hours as "
                      "needed for pain"])
    item = r.items[0]
    assert item.unparsed == () and item.daily_total == 60 and item.mme_per_day == 90
    assert codes(r, "MR306")


# -- strengths, counts and assumptions -------------------------------------------------------

def test_no_strength_assumes_the_strongest_and_caps_at_warning() -> None:
    r = medref.check(["Percocet 2 tabs q3h"])
    item = r.items[0]
    assert item.strength_assumed and item.strength == "10/325"
    assert any("strongest marketed" in f.message for f in codes(r, "MR010"))
    assert all(f.severity != "error" for f in r.findings if f.category == "daily-max")
    assert any("strength not stated" in f.message for f in r.findings
               if f.category == "daily-max")


def test_an_impossible_strength_is_a_finding() -> None:
    r = medref.check(["Percocet 10/650 1 tab q6h"])
    assert r.items[0].status == "unparseable"
    assert any("not a strength of Percocet" in f.message for f in codes(r, "MR001"))


def test_a_bare_count_takes_the_products_unit() -> None:
    r = medref.check(["Norco 5/325 take 1 by mouth every 6 hours"])
    item = r.items[0]
    assert (item.units_per_dose, item.unit_of_use, item.units_per_day) == (1, "tablet", 4)
    assert {g.id: g.daily_total for g in item.ingredients} == {"hydrocodone": 20,
                                                               "acetaminophen": 1300}


def test_a_count_without_a_strength_stays_unverifiable() -> None:
    r = medref.check(["acetaminophen 2 tabs q6h"])
    assert codes(r, "MR005") and r.items[0].status == "unverifiable"


def test_naproxen_sodium_is_converted() -> None:
    r = medref.check(["Anaprox DS 550 mg bid"])
    assert r.items[0].daily_total == 1000
    assert not [f for f in r.findings if f.severity == "error"]
    r = medref.check(["naproxen sodium 550 mg bid"])
    assert r.items[0].daily_total == pytest.approx(1000)


def test_assumed_formulation_is_said_and_softens_a_per_dose_finding() -> None:
    r = medref.check(["acetaminophen 650 mg 2 tabs q8h"])
    (f,) = codes(r, "MR101")
    assert f.severity == "warning" and "immediate-release assumed" in f.message
    assert "extended-release product" in f.message


def test_times_of_day_with_their_own_counts() -> None:
    r = medref.check(["acetaminophen 500 mg tablet: 1 mane 2 nocte"])
    item = r.items[0]
    assert item.administrations_per_day == 2 and item.units_per_day == 3
    assert item.daily_total == 1500 and item.unparsed == ()


def test_glued_uk_sig_words() -> None:
    r = medref.check(["ibuprofen 200 mg tablet: 2tds"])
    item = r.items[0]
    assert item.unparsed == () and item.administrations_per_day == 3
    assert item.daily_total == 1200


@pytest.mark.parametrize(("sig", "grams"), [("acetaminophen 1,5 g q6h", 1.5),
                                            ("acetaminophen 1,000 mg q6h", 1.0)])
def test_decimal_comma_and_thousands(sig: str, grams: float) -> None:
    r = medref.check([sig])
    assert r.items[0].daily_total == grams * 4000


def test_an_ambiguous_comma_is_not_read_as_a_number() -> None:
    r = medref.check(["ibuprofen 1,00 mg tid"])
    assert codes(r, "MR001") or codes(r, "MR007")


# -- the reference commands ------------------------------------------------------------------

def test_show_percocet_lists_ingredients_strengths_limits_and_sources() -> None:
    out = CliRunner().invoke(cli, ["show", "percocet"])
    assert out.exit_code == 0
    text = out.output
    for needle in ("Percocet", "[oxycodone]", "[acetaminophen]", "10/325", "2.5/325",
                   "4,000 mg/day", "MME factor", "Sources", "[cdc-mme-2018]"):
        assert needle in text, needle


def test_drugs_json_lists_products_with_ingredients() -> None:
    out = CliRunner().invoke(cli, ["drugs", "--format", "json"])
    rows = {r["id"]: r for r in json.loads(out.output)}
    prods = {p["id"]: p for p in rows["oxycodone"]["products"]}
    assert prods["percocet"]["ingredients"] == ["oxycodone", "acetaminophen"]
    out = CliRunner().invoke(cli, ["products", "--ingredient", "codeine", "--format", "json"])
    ids = [p["id"] for p in json.loads(out.output)]
    assert "tylenol-with-codeine" in ids and all(
        "codeine" in p["ingredients"] for p in json.loads(out.output))


# -- properties ------------------------------------------------------------------------------

COMBOS = [p for p in REF.products.values() if len(p["ingredients"]) > 1]


@given(st.sampled_from(COMBOS), st.integers(1, 2), st.sampled_from([4, 6, 8, 12]))
def test_every_ingredient_of_a_combination_counts(product: dict[str, object], tabs: int,
                                                  hours: int) -> None:
    """Each marketed strength of each combination gives each ingredient's amount x count x
    administrations, and the product's name reaches the finding items."""
    for st_ in product["strengths"]:  # type: ignore[attr-defined]
        if st_.get("legacy"):
            continue
        r = medref.check([f"{product['name']} {st_['label'].split(' ')[0]} {tabs} "
                          f"{product['dose_form']}s q{hours}h"])
        item = r.items[0]
        assert item.status != "unknown"
        assert item.strength == st_["label"], (item, st_)
        got = {g.id: g.daily_total for g in item.ingredients}
        for c in st_["components"]:
            amount = c.get("base_amount") or c["amount"]
            if c["ingredient"] in got and got[c["ingredient"]] is not None:
                expect = amount * tabs * 24 / hours
                assert got[c["ingredient"]] == pytest.approx(expect, rel=1e-6), (item, c)


# -- a combination written by its ingredients' names -----------------------------------------

@pytest.mark.parametrize(("spelled", "product", "strength"), [
    # CDC's product names (and claims descriptions) write the salt of the first ingredient
    ("HYDROCODONE BITARTRATE-ACETAMINOPHEN 10-325", "hydrocodone-acetaminophen", "10/325"),
    ("OXYCODONE HCL-ACETAMINOPHEN 5-325", "oxycodone-acetaminophen", "5/325"),
    ("HYDROCODONE BITARTRATE-IBUPROFEN 7.5-200", "hydrocodone-ibuprofen", "7.5/200"),
    ("ACETAMINOPHEN-CODEINE PHOSPHATE #3", "acetaminophen-codeine", "300/30"),
    ("acetaminophen-codeine phosphate no.4", "acetaminophen-codeine", "300/60"),
    ("oxycodone hcl/apap 10/325", "oxycodone-acetaminophen", "10/325"),
    ("oxycodone hydrochloride and acetaminophen 7.5/325", "oxycodone-acetaminophen",
     "7.5/325"),
    ("acetaminophen + hydrocodone 5/325", "hydrocodone-acetaminophen", "5/325"),
    ("tramadol & acetaminophen 37.5/325", "tramadol-acetaminophen", "37.5/325")])
def test_a_combination_written_by_its_ingredients_is_the_generic_line(
        spelled: str, product: str, strength: str) -> None:
    """Before, ``HYDROCODONE BITARTRATE-ACETAMINOPHEN`` (4,130 of CDC's 14,549 opioid NDCs
    carry that name) was read as hydrocodone with ``bitartrate-acetaminophen`` not understood:
    the acetaminophen was dropped from the totals."""
    r = medref.check([f"{spelled} 1 tab po q6h"])
    item = r.items[0]
    assert (item.product, item.strength, item.status) == (product, strength, "checked")
    assert item.unparsed == () and not codes(r, "MR007")
    assert "acetaminophen" in {g.id for g in item.ingredients} or "ibuprofen" in {
        g.id for g in item.ingredients}


@pytest.mark.parametrize(("spelled", "product", "unparsed"), [
    # no generic line on file for aspirin with codeine: aspirin, the rest reported (MR007)
    ("aspirin w/ codeine", "aspirin", ("with", "codeine")),
    # two drugs on one line, no strength of the combination stated: not one tablet of
    # tramadol/acetaminophen (it was, with 37.5/325 assumed, and passed with exit 0)
    ("tylenol and tramadol q6h prn", "acetaminophen", ("tramadol",)),
    ("tylenol and oxycodone alternating q3h prn", "acetaminophen", ("oxycodone", "alternating")),
    ("hydrocodone bitartrate-acetaminophen 1 tab q6h", "hydrocodone",
     ("bitartrate-acetaminophen",)),
    ("oxycodone hcl/apap 10/999 1 tab", "oxycodone", ("/apap", "10/999")),
    # an amount does not confirm names joined by a word: 5 mg may be the oxycodone alone
    ("tylenol and oxycodone 5 mg q6h prn", "acetaminophen", ("oxycodone",)),
    ("tylenol & codeine 30 mg q4h prn", "acetaminophen", ("codeine",)),
    ("ibuprofen and oxycodone 5 mg 1 tab q6h", "ibuprofen", ("oxycodone",)),
    # a brand is not an ingredient's name: never a combination
    ("percocet-codeine", None, ()),
    ("ibuprofen-famotidine", None, ())])
def test_only_ingredients_with_a_generic_line_make_a_combination(
        spelled: str, product: str | None, unparsed: tuple[str, ...]) -> None:
    line = spelled if any(c.isdigit() for c in spelled) else f"{spelled} 1 tab"
    item = medref.check([line]).items[0]
    assert (item.product, item.unparsed) == (product, unparsed)


def test_a_number_the_generic_line_does_not_have_is_not_read() -> None:
    r = medref.check(["acetaminophen-codeine phosphate #7 1 tab q6h"])
    assert r.items[0].product == "acetaminophen-codeine"
    assert "#7" in r.items[0].unparsed and codes(r, "MR010")


def test_the_library_finds_a_combination_by_its_ingredients() -> None:
    found = REF.product("Hydrocodone Bitartrate-Acetaminophen")
    assert found is not None and found["id"] == "hydrocodone-acetaminophen"
    assert REF.product("aspirin/codeine") is None
    info = REF.name_info("acetaminophen-codeine phosphate #3")
    assert info is not None and info.strength == "300/30"
    assert REF.resolve("oxycodone hcl-acetaminophen") == "oxycodone-acetaminophen"


_SEPARATORS = ["-", "/", " / ", "+", " + ", " & ", " and ", " with ", " w/", " w/ "]


def _spellings(eid: str) -> list[str]:
    """An ingredient's names as a combination may write them: its id, name and aliases (the
    ingredient's own: Tylenol is one of acetaminophen's), and a trailing salt word."""
    from medref.text import normalize
    e = REF.entries[eid]
    names = [eid, e["name"].split(" (")[0], *e.get("aliases", ())]
    names = [n for n in names if REF.resolve(normalize(n)) == eid]
    return [*names, f"{names[0]} hcl", f"{names[0]} bitartrate"]


@given(st.data())
def test_every_spelling_of_a_generic_combination_resolves_to_it(data: st.DataObject) -> None:
    """Property: each generic combination on file, its ingredients in any order, each by any
    of its names (with or without a salt word), joined by any separator, is that product."""
    from medref.text import normalize
    generic = dict(REF.knowledge.generic_products)
    ids = data.draw(st.sampled_from(sorted(sorted(k) for k in generic)))
    order = data.draw(st.permutations(ids))
    parts = [data.draw(st.sampled_from(_spellings(i))) for i in order]
    sep = data.draw(st.sampled_from(_SEPARATORS))
    if sep.startswith(" w/") and not all(p[:2].isalpha() for p in parts[1:]):
        sep = " with "  # "w/" is "with" only before two letters (not w/o, w/ n-acetyl...)
    name = normalize(sep.join(parts))
    if any(c.isdigit() for c in name):  # a name with a number (vitamin d3) is not tried
        return
    if name in REF.names():  # a name on file says what it names: Tylenol with Codeine
        named = REF.products.get(REF.names()[name])
        assert named is not None and set(named["ingredients"]) == set(ids), name
        return
    assert REF.resolve(name) == generic[frozenset(ids)], name


def test_a_structured_item_assembles_a_combination_only_with_its_strength() -> None:
    base = {"name": "tylenol and tramadol", "dose": 1, "unit": "tablet", "frequency": "q6h"}
    two = medref.check([base]).items[0]
    assert two.product == "acetaminophen"
    one = medref.check([{**base, "strength": "37.5/325"}]).items[0]
    assert (one.product, one.strength) == ("tramadol-acetaminophen", "37.5/325")


@pytest.mark.parametrize(("line", "product"), [
    ("HYDROCODONE BITARTRATE-ACETAMINOPHEN 10 MG 1 tab q6h", "hydrocodone-acetaminophen"),
    ("ACETAMINOPHEN-CODEINE PHOSPHATE 30 MG 1 tab q6h", "acetaminophen-codeine")])
def test_an_ingredients_amount_confirms_an_assembled_combination(line: str,
                                                                 product: str) -> None:
    """CDC's product name with the opioid's amount (as its file gives it): the combination,
    every ingredient kept."""
    r = medref.check([line])
    item = r.items[0]
    assert (item.product, item.status, item.unparsed) == (product, "checked", ())
    assert "acetaminophen" in {g.id for g in item.ingredients}


@pytest.mark.parametrize(("line", "strength"), [
    # 30 mg codeine: 300/30 or 500/30, so 500/30 (it was 500/60, the product's strongest)
    ("ACETAMINOPHEN-CODEINE PHOSPHATE 30 MG 1 tab q6h", "500/30"),
    ("acetaminophen/codeine 15 mg 1 tab q6h", "500/15"),
    # every Percocet has 325 mg acetaminophen: the strongest of them
    ("Percocet 325 mg 1 tab q6h", "10/325")])
def test_an_amount_some_strengths_have_assumes_the_strongest_of_those(line: str,
                                                                      strength: str) -> None:
    r = medref.check([line])
    assert r.items[0].strength == strength and r.items[0].strength_assumed
    (f,) = codes(r, "MR010")
    assert f"({strength}) assumed" in f.message


@pytest.mark.parametrize(("line", "elemental", "over_ul"), [
    ("magnesium oxide 400 mg daily", 241.3, False),   # label: 400 mg holds 241.3 mg Mg
    ("MgO 400 mg bid", 482.6, True),                  # above the 350 mg/day UL
    ("magnesium oxide 400 mg po bid", 482.6, True)])
def test_magnesium_oxide_is_read_as_its_elemental_magnesium(line: str, elemental: float,
                                                            over_ul: bool) -> None:
    """Before, magnesium oxide was read as magnesium glycinate with 'oxide' not understood,
    and 400 mg taken as 400 mg of elemental magnesium (an UL warning for one tablet)."""
    r = medref.check([line])
    item = r.items[0]
    assert (item.product, item.status, item.unparsed) == ("magnesium-oxide", "checked", ())
    assert item.daily_total == pytest.approx(elemental)
    assert bool(codes(r, "MR401")) == over_ul


@pytest.mark.parametrize(("lines", "title"), [
    (["magnesium glycinate 100 mg daily", "magnesium oxide 400 mg daily"],
     "Two magnesium sources"),
    (["calcium citrate 500 mg daily", "calcium carbonate 1250 mg bid"], "Two calcium sources")])
def test_two_sources_of_one_mineral_are_a_finding(lines: list[str], title: str) -> None:
    """The upper intake level counts every source of the element: two sources are named
    (MR302, info since their elemental total is checked, MR402), and with an age at which the
    total is within the level nothing warns."""
    r = medref.check(lines, {"age": 60})
    (f,) = codes(r, "MR302")
    assert f.severity == "info" and f.message.startswith(title) and f.lines == (0, 1)
    assert "MR402" in f.message and not codes(r, "MR402")
    assert r.exit_code("warning") == 0


@pytest.mark.parametrize(("line", "strength"), [
    ("Tylenol with Codeine 30-60 mg q4h prn", "#4 (300/60)"),  # was #3: the range's top
    ("acetaminophen/codeine 30-60 mg q4h prn", "300/60"),
    ("Percocet 5-10 mg q6h", "10/325")])
def test_a_range_of_amounts_reads_the_strength_of_its_upper_end(line: str,
                                                                strength: str) -> None:
    assert medref.check([line]).items[0].strength == strength


@pytest.mark.parametrize(("line", "elemental"), [
    ("magnesium (as oxide) 500 mg daily", 500.0),   # Supplement Facts: elemental
    ("calcium (as carbonate) 600 mg bid", 1200.0),  # was read as salt weight: 480
    ("calcium carbonate 1250 mg bid", 1000.0)])
def test_as_a_salt_on_a_facts_panel_states_the_element(line: str, elemental: float) -> None:
    assert medref.check([line]).items[0].daily_total == pytest.approx(elemental)


@pytest.mark.parametrize(("line", "product"), [
    ("BUPRENORPHINE HYDROCHLORIDE 2 MG 1 tab daily", "buprenorphine"),
    ("Demerol hydrochloride 50 mg q4h prn", "meperidine"),
    ("oxycodone hydrochloride 5 mg q4h prn", "oxycodone"),
    ("ACETAMINOPHEN-CODEINE PHOSPHATE 1 tab q6h", "acetaminophen-codeine")])
def test_a_salt_word_after_a_drug_says_nothing_more(line: str, product: str) -> None:
    """As the FHIR reader drops them after an RxNorm name: the drug's amounts are those of
    its labeled salt (it was MR007, 'hydrochloride' not understood)."""
    r = medref.check([line])
    assert r.items[0].product == product and r.items[0].unparsed == ()
    assert not codes(r, "MR007")


def test_a_salt_word_after_a_mineral_is_still_reported() -> None:
    """``magnesium malate`` is not magnesium glycinate's amount: not silently dropped
    (magnesium citrate, once such a case, is a source of its own: test_element_totals)."""
    r = medref.check(["magnesium malate 500 mg daily"])
    assert r.items[0].unparsed == ("malate",) and codes(r, "MR007")
