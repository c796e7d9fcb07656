"""Coverage and the alert policy: the acceptance lines of the coverage issue, and the policy's
rules as properties (one finding per problem, one MR602 per regimen, severities by code)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import medref
from medref import CheckResult, Context
from medref.checks import all_checks, codes_of
from medref.cli import cli
from medref.codes import ALERT_POLICY
from medref.engine import ENGINE_CODES

RANK = {"info": 0, "warning": 1, "error": 2}


def of(r: CheckResult, code: str) -> list[medref.Finding]:
    return [f for f in r.findings if f.code == code]


def top(r: CheckResult) -> str | None:
    return r.findings[0].severity if r.findings else None


# -- acceptance ------------------------------------------------------------------------------

def test_meloxicam_early_after_surgery_is_a_bone_healing_warning() -> None:
    r = medref.check(["meloxicam 15 mg po daily"], Context(weeks_since_surgery=4))
    (f,) = of(r, "MR201")
    assert RANK[f.severity] >= 1 and f.items == ("meloxicam",)


def test_opioid_with_benzodiazepine() -> None:
    r = medref.check(["hydromorphone 2 mg po q4h prn", "alprazolam 0.5 mg po tid"])
    hits = [f for f in of(r, "MR303") if {"alprazolam", "hydromorphone"} <= set(f.items)]
    assert len(hits) == 1 and RANK[hits[0].severity] >= 1


def test_anticoagulant_with_nsaid_is_a_bleeding_interaction() -> None:
    r = medref.check(["enoxaparin 40 mg sc daily", "ibuprofen 600 mg po q6h"])
    hits = [f for f in of(r, "MR303") if {"enoxaparin", "ibuprofen"} <= set(f.items)]
    assert len(hits) == 1 and "bleed" in hits[0].message.lower()


def test_fentanyl_patch_mme() -> None:
    r = medref.check(["fentanyl 25 mcg/hr patch q72h"])
    assert r.summary.mme_per_day == pytest.approx(60)
    assert r.items[0].mme_per_day == pytest.approx(60)


def test_fentanyl_patch_after_surgery_is_contraindicated() -> None:
    r = medref.check(["fentanyl 25 mcg/hr patch q72h"], Context(weeks_since_surgery=1))
    errors = [f for f in of(r, "MR601") if f.severity == "error"]
    assert errors and "postoperative" in errors[0].message
    r = medref.check(["fentanyl 25 mcg/hr patch q72h"], Context(opioid_tolerant=False))
    assert any(f.severity == "error" for f in of(r, "MR601"))
    r = medref.check(["fentanyl 25 mcg/hr patch q72h"], Context(opioid_tolerant=True,
                                                                 weeks_since_surgery=30))
    assert not of(r, "MR601")


def test_gabapentin_renal_band() -> None:
    r = medref.check(["gabapentin 300 mg po tid"], Context(age=82, crcl=22))
    hits = [f for f in of(r, "MR107") if f.items == ("gabapentin",)]
    assert hits and hits[0].severity == "error" and "CrCl below 30" in hits[0].message


def test_egfr_is_used_for_a_crcl_rule_and_said() -> None:
    r = medref.check(["gabapentin 300 mg po tid"], Context(age=82, egfr=22))
    hits = [f for f in of(r, "MR107") if f.items == ("gabapentin",)]
    assert hits and "eGFR 22 used for CrCl" in hits[0].message


def test_ketorolac_iv_single_dose() -> None:
    r = medref.check(["ketorolac 60 mg IV once"])
    hits = [f for f in of(r, "MR101") if f.items == ("ketorolac",)]
    assert hits and hits[0].severity == "error" and "30 mg" in hits[0].message


def test_beers_flag_at_72_not_at_50() -> None:
    r = medref.check(["cyclobenzaprine 10 mg tid"], Context(age=72))
    (f,) = of(r, "MR604")
    assert f.severity == "warning" and "Beers" in f.message
    assert not of(medref.check(["cyclobenzaprine 10 mg tid"], Context(age=50)), "MR604")


@pytest.mark.parametrize("sig", ["naproxen 500 mg tid",
                                 "celecoxib 400 mg once then 200 mg bid",
                                 "methocarbamol 1500 mg qid"])
def test_labeled_alternatives_are_not_errors(sig: str) -> None:
    r = medref.check([sig])
    assert not [f for f in r.findings if f.severity == "error"], r.findings


@pytest.mark.parametrize(("sig", "words"), [("naproxen 500 mg tid", "1,500"),
                                            ("methocarbamol 1500 mg qid", "8,000")])
def test_alternatives_say_which_labeled_use_they_fit(sig: str, words: str) -> None:
    r = medref.check([sig])
    assert any(f.code == "MR106" for f in r.findings)
    assert r.items[0].daily_max is not None


def test_bowel_regimen_and_antiemetic_exit_0() -> None:
    out = CliRunner().invoke(cli, ["check", "docusate 100 mg bid", "senna 8.6 mg qhs",
                                   "ondansetron 4 mg q8h prn"])
    assert out.exit_code == 0, out.output


def test_per_kg_daily_limit_for_a_child() -> None:
    r = medref.check(["acetaminophen 650 mg q4h"], Context(age=10, weight=30))
    (f,) = of(r, "MR109")
    assert "3,900 mg/day" in f.message and "30 kg" in f.message


def test_a_child_without_weight_says_what_was_not_checked() -> None:
    r = medref.check(["acetaminophen 325 mg q6h"], Context(age=10))
    (f,) = of(r, "MR602")
    assert "weight (--weight)" in f.message and "acetaminophen per-kg maximum" in f.message


@pytest.mark.parametrize("nsaid", ["naproxen 500 mg bid", "ibuprofen 400 mg tid"])
def test_an_age_that_would_raise_an_interaction_is_asked_for(nsaid: str) -> None:
    """Warfarin with a systemic NSAID is an error from age 66 (policy rule 3), a warning
    below it; without an age, MR602 asks for it for that rule (and not once it is given)."""
    lines = ["warfarin 5 mg daily", nsaid]
    ask = "warfarin interaction severity with " + nsaid.split()[0]
    for ctx, severity, asked in ((None, "warning", True), ({"age": 70}, "error", False),
                                 ({"age": 50}, "warning", False),
                                 ({"weeks_since_surgery": 20}, "warning", True)):
        r = medref.check(lines, ctx)
        bleed = [f for f in of(r, "MR303") if "Warfarin with a systemic NSAID" in f.message]
        assert [f.severity for f in bleed] == [severity], ctx
        needs = of(r, "MR602")
        said = [f for f in needs if ask in f.message]
        assert bool(said) is asked, (ctx, [f.message for f in needs])
        if asked:
            (f,) = said
            assert "age (--age): " in f.message and "(age 66 or over raises it)" in f.message
            assert "warfarin" in f.items and f.lines == (0, 1)


@pytest.mark.parametrize("lines", [
    ["warfarin 5 mg daily", "naproxen 500 mg bid", "prednisone 10 mg daily"],
    ["warfarin 5 mg daily", "ketorolac 10 mg q6h", "aspirin 81 mg daily"]])
def test_no_age_is_asked_for_when_the_interaction_is_already_an_error(lines: list[str]
                                                                       ) -> None:
    """A corticosteroid risk factor, or another rule of the same bleeding problem, already
    makes the finding an error: an age could not raise it, so MR602 does not ask for one."""
    r = medref.check(lines)
    bleed = [f for f in of(r, "MR303") if "warfarin" in f.items]
    assert [f.severity for f in bleed] == ["error"]
    assert not any("interaction severity" in f.message for f in of(r, "MR602"))


def test_an_interaction_without_an_age_rule_asks_for_no_age() -> None:
    r = medref.check(["enoxaparin 40 mg sc daily", "naproxen 500 mg bid"])
    assert of(r, "MR303")
    assert not any("interaction severity" in f.message for f in of(r, "MR602"))


# -- the policy as properties ----------------------------------------------------------------

def test_summary_reports_the_policy_version() -> None:
    r = medref.check(["ibuprofen 400 mg tid"])
    assert r.summary.alert_policy == ALERT_POLICY
    assert r.to_dict()["summary"]["alert_policy"] == ALERT_POLICY


def test_one_problem_one_finding() -> None:
    """Fluoxetine + tramadol + cyclobenzaprine: one serotonin finding (every pair listed),
    not one per rule."""
    r = medref.check(["fluoxetine 20 mg daily", "tramadol 50 mg q6h",
                      "cyclobenzaprine 10 mg tid"])
    sero = [f for f in r.findings if "serotonin" in f.message.lower()]
    assert len(sero) == 1
    assert set(sero[0].items) == {"cyclobenzaprine", "fluoxetine", "tramadol"}


@given(st.lists(st.sampled_from([
    "tramadol 50 mg q6h", "gabapentin 300 mg tid", "zoledronic acid 5 mg iv yearly",
    "tizanidine 4 mg q8h", "acetaminophen 500 mg q6h", "ibuprofen 400 mg tid",
    "vitamin D 5000 IU daily", "duloxetine 60 mg daily", "codeine 30 mg q6h"]),
    min_size=1, max_size=6))
def test_context_not_given_is_one_line_per_regimen(lines: list[str]) -> None:
    r = medref.check(lines)
    assert len(of(r, "MR602")) <= 1


def test_no_limit_on_file_is_info() -> None:
    for line in ("oxycodone 5 mg q6h", "pantoprazole 40 mg daily", "vitamin K2 100 mcg daily"):
        r = medref.check([line])
        assert all(f.severity == "info" for f in of(r, "MR004")), line


def test_mme_thresholds_are_warnings_that_say_so() -> None:
    r = medref.check(["oxycodone 30 mg q4h"])
    (f,) = of(r, "MR306")
    assert f.severity == "warning" and "not a limit" in f.message


def test_library_takes_a_dict_context() -> None:
    r = medref.check(["tramadol 100 mg q6h"], {"age": 80})
    assert r.summary.context.age == 80 and of(r, "MR107")


def test_validators_apply_upper_intake_levels() -> None:
    assert medref.daily_max("vitamin D", unit="IU")[0] == 4000  # type: ignore[index]
    with pytest.raises(ValueError, match="4,000"):
        medref.check_daily_dose("vitamin D", 5000, "IU")


# -- every code, every severity --------------------------------------------------------------

POLICY_ONLY = {
    ("MR302", "error"): "a duplicate that must never be combined, from a verified source: the "
                        "bundled PTH-analog rule is unverified, so a warning",
    ("MR302", "info"): "a minor duplicate: none in the bundled rules",
    ("MR502", "warning"): "a course limit from an unverified source: the bundled one "
                          "(romosozumab 12 doses) is verified",
}
"""Severities the alert policy allows a code that no bundled data produces today (each with
why): a site's data or a later rule may."""

SEVERITY_EXAMPLES: dict[tuple[str, str], tuple[list[Any], dict[str, Any]]] = {}
"""(code, severity) -> a regimen and context that emits it (filled below)."""


def _ex(code: str, severity: str, lines: list[Any], **ctx: Any) -> None:
    SEVERITY_EXAMPLES[(code, severity)] = (lines, ctx)


def test_codes_and_emitted_severities_agree() -> None:
    """`medref codes` lists, per code, the severities `check` can emit: every listed
    (code, severity) has an example here that emits it, and nothing emits another one (the
    engine refuses a severity its code does not declare)."""
    declared = {(c.code, s) for c in codes_of(all_checks(), ENGINE_CODES).values()
                for s in c.severities}
    missing = sorted(declared - set(SEVERITY_EXAMPLES) - set(POLICY_ONLY))
    assert not missing, f"no example for {missing}"
    assert set(POLICY_ONLY) <= declared
    for (code, sev), (lines, ctx) in SEVERITY_EXAMPLES.items():
        if isinstance(lines, dict):  # a FHIR document (MR013 needs coded dosage and text)
            r = medref.check_fhir(lines, ctx or None)
        else:
            r = medref.check(lines, ctx or None)
        assert any(f.code == code and f.severity == sev for f in r.findings), (
            code, sev, lines, [(f.code, f.severity) for f in r.findings])
    out = CliRunner().invoke(cli, ["codes"]).output
    by_code: dict[str, set[str]] = {}
    for code, sev in declared:
        by_code.setdefault(code, set()).add(sev)
    for code, sevs in by_code.items():  # `medref codes` prints each code's severities
        line = next(ln for ln in out.splitlines() if ln.startswith(code))
        assert set(line.split()[2].split("/")) == sevs, line


def _load_examples() -> None:
    with open(__file__.replace("test_policy.py", "severity_examples.json"),
              encoding="utf-8") as fh:
        for row in json.load(fh):
            _ex(row["code"], row["severity"], row["lines"], **row.get("context", {}))


_load_examples()
