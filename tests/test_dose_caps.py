"""Interaction rules that cap a drug's daily dose when another drug is taken too (``dose_cap``):
the simvastatin and lovastatin labels' "do not exceed 20 mg daily with amlodipine".

The rule reads the regimen's worst-case daily dose of the capped drug over all its lines:
above the cap it is a labeled limit exceeded (an error, from a verified source), at or below
it info, and a dose it cannot read keeps the rule's warning (alert policy 2026.11-3).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import medref
from medref.errors import DataError
from medref.reference import bundled_data_dir, load_reference
from medref.result import CheckResult, Context, Finding

ADULT = Context(age=50, crcl=90, hepatic_impairment=False, weeks_since_surgery=40)

CAPS = [  # (statin, partner line, rule id, cap mg/day), from the rules' label sources
    ("simvastatin", "amlodipine 5 mg daily", "simvastatin-with-amlodipine", 20),
    ("simvastatin", "amiodarone 200 mg daily", "simvastatin-with-amiodarone", 20),
    ("simvastatin", "diltiazem 60 mg qid", "simvastatin-with-diltiazem-or-verapamil", 10),
    ("simvastatin", "verapamil 80 mg tid", "simvastatin-with-diltiazem-or-verapamil", 10),
    ("lovastatin", "diltiazem 60 mg qid", "lovastatin-with-diltiazem-or-verapamil", 20),
    ("lovastatin", "amiodarone 200 mg daily", "lovastatin-with-amiodarone", 40),
]


def _capped(r: CheckResult, rule: str) -> Finding:
    (f,) = [f for f in r.findings if f.code == "MR303" and f.rule == rule]
    return f


@pytest.mark.parametrize(("statin", "partner", "rule", "cap"), CAPS)
def test_above_the_cap_is_an_error_and_within_it_info(statin: str, partner: str, rule: str,
                                                      cap: int) -> None:
    above = _capped(medref.check([f"{statin} {cap * 2} mg qhs", partner], ADULT), rule)
    assert above.severity == "error"
    assert f"{cap * 2} mg a day is above the cap of {cap} mg a day" in above.message
    at = _capped(medref.check([f"{statin} {cap} mg qhs", partner], ADULT), rule)
    assert at.severity == "info"
    assert f"{cap} mg a day is within the cap of {cap} mg a day" in at.message
    half = _capped(medref.check([f"{statin} {cap // 2} mg qhs", partner], ADULT), rule)
    assert half.severity == "info"


@pytest.mark.parametrize("statin_line", ["simvastatin qhs", "simvastatin 20 mg",
                                         "simvastatin 2 tabs qhs"])
def test_a_dose_it_cannot_read_keeps_the_warning(statin_line: str) -> None:
    f = _capped(medref.check([statin_line, "amlodipine 5 mg daily"], ADULT),
                "simvastatin-with-amlodipine")
    assert f.severity == "warning"
    assert "daily dose could not be read; confirm it is at most 20 mg a day" in f.message


def test_the_cap_counts_every_line_of_the_drug() -> None:
    """Two simvastatin lines of 10 and 20 mg: 30 mg a day against the 20 mg cap."""
    r = medref.check(["simvastatin 10 mg qam", "Zocor 20 mg qhs", "amlodipine 5 mg daily"],
                     ADULT)
    f = _capped(r, "simvastatin-with-amlodipine")
    assert f.severity == "error" and "Simvastatin 30 mg a day is above" in f.message
    assert f.lines == (0, 1, 2)


def test_a_prn_range_is_taken_at_its_worst() -> None:
    f = _capped(medref.check(["simvastatin 10-20 mg bid", "amlodipine 5 mg daily"], ADULT),
                "simvastatin-with-amlodipine")
    assert f.severity == "error" and "40 mg a day is above" in f.message


def test_one_problem_names_each_cap_and_takes_the_worst() -> None:
    """Simvastatin 20 mg with diltiazem (cap 10) and amiodarone (cap 20): one
    statin-myopathy finding, led by the cap exceeded, naming both checks."""
    r = medref.check(["simvastatin 20 mg qhs", "diltiazem 60 mg qid",
                      "amiodarone 200 mg daily"], ADULT)
    (f,) = [f for f in r.findings if f.code == "MR303" and "simvastatin" in f.items
            and f.rule is not None and "simvastatin" in f.rule]
    assert f.severity == "error" and f.rule == "simvastatin-with-diltiazem-or-verapamil"
    assert "above the cap of 10 mg a day with diltiazem" in f.message
    assert "within the cap of 20 mg a day with amiodarone" in f.message
    # the lead rule's dose check first, after a full stop
    assert (f.message.index("above the cap of 10 mg")
            < f.message.index("within the cap of 20 mg"))
    assert "; moderate). Dose check:" in f.message


def test_within_every_cap_the_regimen_passes() -> None:
    r = medref.check(["simvastatin 10 mg qhs", "amlodipine 5 mg daily"], ADULT)
    assert r.exit_code("warning") == 0, [(f.code, f.severity) for f in r.findings]


@settings(max_examples=60, deadline=None)
@given(strength=st.sampled_from([5, 10, 20, 40, 80]),
       freq=st.sampled_from([("daily", 1), ("bid", 2), ("qhs", 1), ("tid", 3)]),
       partner=st.sampled_from([("amlodipine 10 mg daily", 20),
                                ("verapamil 120 mg daily", 10),
                                ("amiodarone 400 mg daily", 20)]))
def test_severity_follows_the_daily_dose(strength: int, freq: tuple[str, int],
                                         partner: tuple[str, int]) -> None:
    """Property: the capped finding is an error exactly when strength x doses a day is above
    the cap, and info otherwise."""
    line, cap = partner
    r = medref.check([f"simvastatin {strength} mg {freq[0]}", line], ADULT)
    (f,) = [f for f in r.findings if f.code == "MR303" and f.rule is not None
            and f.rule.startswith("simvastatin-with")]
    assert f.severity == ("error" if strength * freq[1] > cap else "info")


def test_the_service_and_batch_doors_agree() -> None:
    """The cap is read by the engine: check, check_many and structured items give one answer."""
    lines = ["simvastatin 40 mg qhs", "amlodipine 5 mg daily"]
    one = medref.check(lines, ADULT)
    (many,) = list(medref.check_many([lines], context=ADULT))
    assert many.result is not None
    assert [f.to_dict() for f in one.findings] == [f.to_dict() for f in many.result.findings]
    structured = medref.check([{"name": "simvastatin", "dose": 40, "unit": "mg",
                                "frequency": "qhs"}, lines[1]], ADULT)
    assert [(f.code, f.severity) for f in structured.findings] == [
        (f.code, f.severity) for f in one.findings]


# -- the data: a dose cap is validated when loaded ------------------------------------------

@pytest.fixture
def copy(tmp_path: Path) -> Path:
    src = bundled_data_dir()
    assert src is not None
    d = tmp_path / "data"
    shutil.copytree(src, d)
    return d


def _edit_rule(d: Path, rid: str, **changes: Any) -> None:
    path = d / "interactions.json"
    rules = json.loads(path.read_text(encoding="utf-8"))
    next(r for r in rules if r["id"] == rid).update(changes)
    path.write_text(json.dumps(rules, indent=1, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize(("changes", "field", "says"), [
    ({"dose_cap": {"amount": 20, "unit": "IU"}}, "dose_cap.unit", "does not compare"),
    ({"dose_cap": {"amount": 0, "unit": "mg"}}, "dose_cap.amount", ""),
    ({"dose_cap": {"amount": 20}}, "dose_cap.unit", ""),
    ({"a": ["class:statin"]}, "dose_cap", "by canonical id"),
])
def test_a_bad_cap_fails_loudly(copy: Path, changes: dict[str, Any], field: str,
                                says: str) -> None:
    _edit_rule(copy, "simvastatin-with-amlodipine", **changes)
    with pytest.raises(DataError) as info:
        load_reference(copy)
    msg = str(info.value)
    assert "interactions.json" in msg and "'simvastatin-with-amlodipine'" in msg, msg
    assert field in msg and says in msg, msg


def test_a_cap_on_a_group_rule_fails_loudly(copy: Path) -> None:
    rules = json.loads((copy / "interactions.json").read_text(encoding="utf-8"))
    rid = next(r["id"] for r in rules if r["kind"] == "group")
    _edit_rule(copy, rid, dose_cap={"amount": 20, "unit": "mg"})
    with pytest.raises(DataError) as info:
        load_reference(copy)
    assert rid in str(info.value) and "only a pair rule" in str(info.value)


def test_an_unverified_cap_exceeded_is_a_warning(copy: Path) -> None:
    """The alert policy: a rule from general knowledge never makes an error."""
    _edit_rule(copy, "simvastatin-with-amlodipine", verified=False)
    ref = load_reference(copy)
    r = medref.check(["simvastatin 40 mg qhs", "amlodipine 5 mg daily"], ADULT,
                     reference=ref)
    f = _capped(r, "simvastatin-with-amlodipine")
    assert f.severity == "warning" and "above the cap" in f.message


def test_lines_read_above_the_cap_are_above_it_whatever_the_unread_line() -> None:
    """40 mg read on one line is above the 20 mg cap, whatever the other line holds."""
    f = _capped(medref.check(["simvastatin 40 mg qhs", "simvastatin 1 tab qhs",
                              "amlodipine 5 mg daily"], ADULT), "simvastatin-with-amlodipine")
    assert f.severity == "error" and "at least" in f.message
