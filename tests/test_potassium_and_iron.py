"""Potassium chloride (mEq, extended-release by default) and ferrous sulfate (twelfth session):
the potassium chloride labels' single-dose limit and hyperkalemia interactions, and iron's
absorption rules. Every number and statement is label text (``data/sources.json``)."""

from __future__ import annotations

import pytest

import medref
from medref.result import CheckResult, Context, Finding

ADULT = Context(age=50, crcl=90, hepatic_impairment=False, weeks_since_surgery=40)


def codes(r: CheckResult, code: str) -> list[Finding]:
    return [f for f in r.findings if f.code == code]


@pytest.mark.parametrize("line", ["potassium chloride 20 mEq daily", "KCl 10 mEq bid",
                                  "K-Dur 20 meq daily", "Klor-Con 10 mEq bid",
                                  "Klor-Con M20 1 tab daily", "Klor-Con M10 2 tabs daily"])
def test_potassium_chloride_is_known_and_read_in_meq(line: str) -> None:
    r = medref.check([line], ADULT)
    item = r.items[0]
    assert item.product == "potassium-chloride" and item.daily_unit == "mEq"
    assert item.daily_total == 20
    assert not codes(r, "MR101")  # 20 mEq a dose at most


@pytest.mark.parametrize(("line", "flagged"), [
    ("potassium chloride 40 mEq daily", True),         # extended-release by default
    ("Klor-Con M20 2 tabs daily", True),               # 40 mEq in one dose
    ("potassium chloride ER 20 mEq bid", False),       # divided: 20 mEq a dose
    ("potassium chloride oral solution 40 mEq daily", False),  # a liquid: not the ER limit
])
def test_no_more_than_20_meq_in_a_single_extended_release_dose(line: str, flagged: bool) -> None:
    r = medref.check([line], ADULT)
    found = codes(r, "MR101")
    assert bool(found) == flagged
    if found:
        assert found[0].severity == "warning" and "20 mEq" in found[0].message


@pytest.mark.parametrize("line", ["potassium chloride liquid 20 mEq bid",
                                  "potassium chloride 40 mEq elixir daily",
                                  "KCl 40 mEq powder daily", "potassium chloride 40 mEq iv"])
def test_a_liquid_powder_or_injection_is_not_assumed_extended_release(line: str) -> None:
    r = medref.check([line], ADULT)
    item = r.items[0]
    assert item.formulation == "IR" and item.formulation_assumed
    assert not codes(r, "MR101") and not codes(r, "MR014")


@pytest.mark.parametrize(("partner", "rule"), [
    ("spironolactone 25 mg daily", "potassium-chloride-with-potassium-sparing-diuretic"),
    ("lisinopril 10 mg daily", "potassium-chloride-with-raas-inhibitor"),
    ("losartan 50 mg daily", "potassium-chloride-with-raas-inhibitor"),
    ("ibuprofen 400 mg tid", "potassium-chloride-with-nsaid"),
])
def test_potassium_chloride_hyperkalemia_partners(partner: str, rule: str) -> None:
    r = medref.check(["potassium chloride 20 mEq daily", partner], ADULT)
    found = [f for f in codes(r, "MR303") if "hyperkalemia" in f.message]
    assert len(found) == 1 and found[0].severity == "warning" and found[0].rule == rule


def test_one_hyperkalemia_finding_led_by_the_major_rule() -> None:
    """Four rules about one problem are one finding; among warnings a major rule leads a
    moderate one (the NSAID rule sorts first by id)."""
    r = medref.check(["potassium chloride 20 mEq daily", "lisinopril 10 mg daily",
                      "spironolactone 25 mg daily", "ibuprofen 400 mg tid"], ADULT)
    (f,) = [f for f in codes(r, "MR303") if "hyperkalemia" in f.message]
    assert f.rule != "potassium-chloride-with-nsaid"
    assert "; major)" in f.message.split(":", 1)[1].split("Action")[0]
    assert "Potassium chloride with an NSAID" in f.message  # named in "Same problem, also"


@pytest.mark.parametrize("line", ["ferrous sulfate 325 mg daily", "Feosol 325 mg bid",
                                  "Slow Fe 1 tab daily", "iron sulfate 325 mg tid"])
def test_ferrous_sulfate_is_known_and_not_held_to_the_upper_level(line: str) -> None:
    """Iron treatment exceeds the adult upper level (45 mg elemental a day) by design: no
    MR401 warning on a labeled dose, MR004 says why nothing was compared."""
    r = medref.check([line], ADULT)
    assert r.items[0].product == "ferrous-sulfate"
    assert not codes(r, "MR401") and not codes(r, "MR002")
    (f,) = codes(r, "MR004")
    assert "upper level" in f.message


@pytest.mark.parametrize(("partner", "rule"), [
    ("levothyroxine 100 mcg daily", "levothyroxine-with-binding-agents"),
    ("ciprofloxacin 500 mg bid", "ciprofloxacin-with-iron"),
    ("levofloxacin 750 mg daily", "levofloxacin-moxifloxacin-with-iron"),
    ("doxycycline 100 mg bid", "doxycycline-with-polyvalent-cations"),
])
def test_iron_absorption_spacing(partner: str, rule: str) -> None:
    r = medref.check(["ferrous sulfate 325 mg daily", partner], ADULT)
    assert [(f.rule, f.severity) for f in codes(r, "MR304")] == [(rule, "warning")]


@pytest.mark.parametrize("mineral", ["calcium carbonate 1250 mg daily",
                                     "magnesium oxide 400 mg daily",
                                     "calcium citrate 600 mg bid"])
def test_doxycycline_with_a_mineral_supplement(mineral: str) -> None:
    r = medref.check(["doxycycline 100 mg bid", mineral], ADULT)
    assert [f.rule for f in codes(r, "MR304")] == ["doxycycline-with-polyvalent-cations"]


# -- insulins and GLP-1 receptor agonists --------------------------------------------------

@pytest.mark.parametrize(("line", "product"), [
    ("Lantus 20 units qhs", "insulin-glargine"), ("Basaglar 10 units daily", "insulin-glargine"),
    ("insulin glargine 30 units sc at bedtime", "insulin-glargine"),
    ("NovoLog 6 units tid with meals", "insulin-aspart"),
    ("Humalog 4 units ac tid", "insulin-lispro"),
])
def test_insulins_are_known_and_not_compared(line: str, product: str) -> None:
    """Recognised, never compared with a limit (the label: individualize the dosage): MR004
    says so, nothing passes silently."""
    r = medref.check([line], ADULT)
    assert r.items[0].product == product and not codes(r, "MR002")
    assert codes(r, "MR004") and r.items[0].percent_of_max is None


@pytest.mark.parametrize(("line", "product", "over"), [
    ("Ozempic 1 mg sc weekly", "semaglutide", False),
    ("Wegovy 2.4 mg weekly", "semaglutide", False),
    ("semaglutide 3 mg sc weekly", "semaglutide", True),
    ("Rybelsus 14 mg daily", "semaglutide", False), ("Rybelsus 14 mg bid", "semaglutide", True),
    ("Victoza 1.8 mg daily", "liraglutide", False),
    ("liraglutide 3.6 mg daily", "liraglutide", True),
    ("Trulicity 4.5 mg weekly", "dulaglutide", False),
    ("Trulicity 6 mg weekly", "dulaglutide", True),
])
def test_glp1_agonists_against_their_largest_labeled_dose(line: str, product: str,
                                                          over: bool) -> None:
    """Weekly injections against a weekly maximum, daily ones (and the tablets) against a daily
    one; a warning: the labels give the largest dose, not a stated hard maximum for each."""
    r = medref.check([line], ADULT)
    assert r.items[0].product == product and not codes(r, "MR002")
    assert [f.severity for f in codes(r, "MR102")] == (["warning"] if over else [])


def test_rybelsus_is_oral() -> None:
    assert medref.check(["Rybelsus 14 mg daily"], ADULT).items[0].route == "po"


@pytest.mark.parametrize(("lines", "rule", "severity"), [
    (["Ozempic 1 mg weekly", "glipizide 5 mg bid"],
     "semaglutide-with-insulin-or-sulfonylurea", "warning"),
    (["Ozempic 1 mg weekly", "Lantus 20 units qhs"],
     "semaglutide-with-insulin-or-sulfonylurea", "warning"),
    (["Trulicity 1.5 mg weekly", "glimepiride 2 mg daily"],
     "glp1-agonist-with-insulin-or-sulfonylurea", "warning"),
    (["Lantus 20 units qhs", "pioglitazone 30 mg daily"],
     "insulin-with-thiazolidinedione", "warning"),
])
def test_diabetes_interactions(lines: list[str], rule: str, severity: str) -> None:
    r = medref.check(lines, ADULT)
    assert [(f.rule, f.severity) for f in codes(r, "MR303")] == [(rule, severity)]


def test_basal_and_mealtime_insulin_are_not_a_duplicate() -> None:
    r = medref.check(["Lantus 20 units qhs", "Humalog 4 units tid with meals"], ADULT)
    assert not [f for f in r.findings if f.category == "duplicate-therapy"]


def test_two_glp1_agonists_are_a_duplicate() -> None:
    r = medref.check(["Ozempic 1 mg weekly", "Trulicity 1.5 mg weekly"], ADULT)
    assert [(f.rule, f.severity) for f in codes(r, "MR302")] == [("duplicate-glp1-agonists",
                                                                   "warning")]
    one = medref.check(["Ozempic 1 mg weekly", "metformin 500 mg bid"], ADULT)
    assert not codes(one, "MR302")
