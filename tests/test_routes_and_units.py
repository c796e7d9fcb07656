"""Routes a line implies and units it may be dosed in (twelfth session): a patch, puff, spray
or drop without a route word takes the drug's one route of that kind; nostrils and eyes are
routes; a dose "in each nostril" is given twice; milliequivalents are a unit of their own."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import medref
from medref.models import Unit
from medref.reference import load_reference
from medref.sig import ParsedLine
from medref.sig import parse_line as _parse
from medref.units import comparable

REF = load_reference()


def parse_line(text: str) -> ParsedLine:
    return _parse(text, REF.resolve)


@pytest.mark.parametrize(("text", "route"), [
    ("1 drop in each eye at bedtime", "ophthalmic"),
    ("1 drop into the affected eye(s) daily", "ophthalmic"),
    ("1 drop ou qhs", "ophthalmic"),
    ("2 sprays in each nostril daily", "intranasal"),
    ("1 spray in one nostril once", "intranasal"),
    ("2.5 mg via nebulizer q6h", "inhaled"),
    ("2 puffs by inhalation q4h prn", "inhaled"),
    ("8 mg sl daily", "sl"),
    ("1 drop each eye bid", "ophthalmic"),
    ("1 drop both eyes qhs", "ophthalmic"),
    ("2 sprays each nostril daily", "intranasal"),
    ("2 mg under the tongue daily", "sl"),
    ("8 mg sublingually daily", "sl"),
])
def test_route_phrases(text: str, route: str) -> None:
    p = parse_line("sumatriptan " + text)
    assert p.route == route and not p.problems and not p.unparsed


@pytest.mark.parametrize(("line", "dose", "count"), [
    ("sumatriptan 5 mg 1 spray per nostril once", 10, 2),
    ("sumatriptan 5 mg 1 spray in each nostril once", 10, 2),
    ("sumatriptan 5 mg 1 spray in both nostrils once", 10, 2),
    ("sumatriptan 5 mg 1 spray each nostril once", 10, 2),
    ("sumatriptan 20 mg 1 spray in one nostril once", 20, 1),
    ("sumatriptan 10 mg in each nostril once", 20, None),
])
def test_a_dose_in_each_nostril_is_given_twice(line: str, dose: float,
                                                count: float | None) -> None:
    p = parse_line(line)
    assert p.dose == dose and p.count == count and p.route == "intranasal"


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=4), st.sampled_from(["5", "10", "20"]))
def test_each_nostril_doubles_one_nostril(n: int, strength: str) -> None:
    one = parse_line(f"sumatriptan {strength} mg {n} spray in one nostril once")
    each = parse_line(f"sumatriptan {strength} mg {n} spray in each nostril once")
    assert one.dose is not None and each.dose == 2 * one.dose
    assert each.count == 2 * n


def test_a_taper_per_nostril_doubles_each_step() -> None:
    p = parse_line("sumatriptan 5 mg 2 sprays in each nostril daily x 2 days then 1 spray in "
                   "each nostril daily x 2 days")
    assert p.dose == 20 and p.steps == 2 and not p.problems


@pytest.mark.parametrize("text", ["20 mEq", "20 meq", "20 milliequivalents", "20mEq"])
def test_milliequivalents_are_read(text: str) -> None:
    p = parse_line(f"sumatriptan {text} daily")
    assert (p.dose, p.unit) == (20, "mEq")


def test_milliequivalents_compare_only_with_themselves() -> None:
    assert Unit("mEq") is Unit.MEQ
    assert comparable("mEq", "mEq")
    assert not comparable("mEq", "mg") and not comparable("mg", "mEq")
    assert not comparable("mEq", "IU", iu_per_mcg=40)


def test_a_route_the_drug_does_not_have_is_not_checked_against_its_oral_limits() -> None:
    r = medref.check(["ibuprofen 400 mg 1 drop in each eye tid"])
    item = r.items[0]
    assert item.route == "ophthalmic" and item.percent_of_max is None
    assert item.status != "checked" or any(f.code == "MR004" for f in r.findings)


@pytest.mark.parametrize("line", ["ondansetron 4 mg odt q8h prn",
                                  "ondansetron 8 mg orally disintegrating tablet q8h",
                                  "ondansetron ODT 4 mg 1 tab q8h"])
def test_an_orally_disintegrating_tablet_is_read(line: str) -> None:
    r = medref.check([line])
    item = r.items[0]
    assert item.route == "po" and item.unparsed == () and item.daily_total is not None


def test_sublingual_buprenorphine_is_not_read_as_its_patch() -> None:
    """Buprenorphine is on file as a patch and injections: a sublingual line applies none of
    their limits (it was read as the patch, "mg cannot be compared with mcg/h")."""
    r = medref.check(["buprenorphine 8 mg sl daily"])
    assert r.items[0].route == "sl"
    assert [f.code for f in r.findings if f.severity == "warning" and f.category ==
            "unverifiable"] == ["MR014"]


@pytest.mark.parametrize(("line", "daily", "code"), [
    ("Flonase 2 sprays each nostril daily", 200, None),          # the labeled dose
    ("Flonase 1 spray in each nostril bid", 200, None),
    ("fluticasone 50 mcg 1 spray per nostril bid", 200, None),
    ("Flonase 2 sprays in each nostril bid", 400, "MR102"),       # twice the maximum
    ("Flonase 2 sprays both nostrils bid", 400, "MR102"),
])
def test_flonase_counts_both_nostrils(line: str, daily: float, code: str | None) -> None:
    """"2 sprays in each nostril" is four sprays: the label's 200 mcg a day maximum is
    "2 sprays in each nostril"; before, "each nostril" was set aside and a dose of twice the
    maximum read as the maximum."""
    r = medref.check([line])
    item = r.items[0]
    assert item.route == "intranasal" and item.daily_total == daily
    errors = [f.code for f in r.findings if f.severity == "error"]
    assert errors == ([code] if code else [])


def test_inhaled_fluticasone_is_not_held_to_the_nasal_maximum() -> None:
    r = medref.check(["Flovent HFA 110 mcg 2 puffs bid"])
    item = r.items[0]
    assert item.route == "inhaled" and item.percent_of_max is None
    assert [f.code for f in r.findings if f.severity != "info"] == []


def test_nasal_fluticasone_is_not_a_systemic_corticosteroid() -> None:
    """No NSAID + corticosteroid bleeding rule for a nasal spray."""
    r = medref.check(["Flonase 2 sprays each nostril daily", "ibuprofen 400 mg tid"])
    assert not [f for f in r.findings if f.rule == "nsaid-with-corticosteroid"]


# -- from the session's review ------------------------------------------------------------

@pytest.mark.parametrize(("line", "route", "code"), [
    # sublingual: the oral limits (lorazepam 10 mg a day), said as an assumption
    ("lorazepam 2 mg sl q2h prn", "po", "MR102"),
    # a patch coded transdermal: the topical patch limits (3 patches)
    ("Lidoderm apply 4 patches td q24h", "topical", "MR101"),
    ("lidocaine 5% patch apply 4 patches transdermally daily", "topical", "MR101"),
])
def test_a_route_like_one_on_file_keeps_its_limits(line: str, route: str, code: str) -> None:
    r = medref.check([line])
    assert r.items[0].route == route
    assert any(f.code == code and f.severity == "error" for f in r.findings)
    assert any(f.code == "MR010" and "read as" in f.message for f in r.findings)
    assert not any(f.code == "MR014" for f in r.findings)


def test_sublingual_opioids_keep_their_mme() -> None:
    r = medref.check(["oxycodone 15 mg sl q4h prn", "morphine 30 mg sl q4h prn"])
    assert r.summary.mme_per_day is not None and r.summary.mme_per_day >= 90
    assert any(f.code == "MR306" for f in r.findings)


@pytest.mark.parametrize(("line", "code"), [
    ("Voltaren gel 12 g qid, avoid getting in eyes", "MR102"),
    ("lidocaine 5% patch apply 4 patches daily, do not use in eyes", "MR101"),
    ("Flonase 2 sprays in each nostril bid, do not spray in eyes", "MR102"),
])
def test_a_caution_about_the_eyes_is_not_the_route(line: str, code: str) -> None:
    r = medref.check([line])
    assert r.items[0].route != "ophthalmic"
    assert any(f.code == code and f.severity == "error" for f in r.findings)
    assert not any(f.code in ("MR014", "MR001") for f in r.findings)


@pytest.mark.parametrize(("line", "daily"), [
    ("Flonase 2 sprays in both nares bid", 400), ("Flonase 2 sprays each nare daily", 200),
    ("Flonase 2 sprays EN bid", 400), ("Flonase 1 spray in one nare daily", 50),
])
def test_nares_are_nostrils(line: str, daily: float) -> None:
    assert medref.check([line]).items[0].daily_total == daily


@pytest.mark.parametrize("line", [
    # the strength is written after the counted step: which tablets the first step means is
    # not guessed (it was read as 325 mg and passed at 97.5%)
    "acetaminophen 2 tablets q4h x 3 days then 325 mg 1 tablet q6h",
    "oxycodone 2 tablets q4h x 3 days then 5 mg 1 tablet q6h",
])
def test_a_strength_is_only_carried_forward(line: str) -> None:
    r = medref.check([line])
    assert r.items[0].status != "checked" and any(f.code == "MR001" for f in r.findings)


def test_a_tablet_takes_the_oral_route() -> None:
    """Semaglutide is injected by default; a tablet is by mouth (its daily limit, not the
    weekly injection's)."""
    r = medref.check(["semaglutide 7 mg tablet daily"])
    assert r.items[0].route == "po" and not any(f.code == "MR102" for f in r.findings)


def test_a_route_not_on_file_is_said_for_a_drug_without_limits_too() -> None:
    r = medref.check(["methylprednisolone 4 mg ou daily"])
    assert [f.code for f in r.findings if f.category == "unverifiable"] == ["MR014"]
