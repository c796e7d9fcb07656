"""Findings a pharmacist's review of the output turned up: the same product under two names,
an opioid line missing from the MME total, unverified facts worded as labeled ones, and
structured doses rounded before they were checked."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import medref
from medref.cli import cli
from medref.reference import load_reference
from medref.result import CheckResult, Context, Finding

ADULT = Context(age=50, crcl=90, hepatic_impairment=False, weeks_since_surgery=40)


def findings(result: CheckResult, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]


class TestSameProductOnSeveralLines:
    def test_brand_and_generic_are_flagged_even_under_the_maximum(self) -> None:
        """Tylenol and acetaminophen at 2 g/day each: within 4 g, but the same drug twice."""
        r = medref.check(["Tylenol 500 mg q6h", "acetaminophen 500 mg q6h"], ADULT)
        (f,) = findings(r, "MR009")
        assert f.severity == "warning" and f.lines == (0, 1) and f.items == ("acetaminophen",)
        assert "on 2 lines" in f.message and "summed" in f.message
        assert r.exit_code("warning") == 1

    def test_spacing_variants_are_one_product_on_two_lines(self) -> None:
        r = medref.check(["Tylenol 500mg q6h", "Tylenol 500 mg q6h"], ADULT)
        assert findings(r, "MR009")

    def test_identical_lines_stay_mr008_only(self) -> None:
        r = medref.check(["Tylenol 500 mg q6h", "tylenol  500 MG q6h"], ADULT)
        assert findings(r, "MR008") and not findings(r, "MR009")

    def test_two_routes_say_no_limit_covers_them_combined(self) -> None:
        """Ketorolac 30 mg IV q6h + 10 mg PO q6h: 160 mg/day that no single limit covers."""
        r = medref.check(["ketorolac 30 mg iv q6h", "ketorolac 10 mg po q6h"], ADULT)
        (f,) = findings(r, "MR009")
        assert "different routes (iv, po)" in f.message
        assert "no limit on file covers the routes combined" in f.message

    def test_other_products_are_not_flagged(self) -> None:
        r = medref.check(["ibuprofen 400 mg tid", "acetaminophen 500 mg q6h"], ADULT)
        assert not findings(r, "MR009")

    @settings(max_examples=40, deadline=None)
    @given(st.permutations(["Tylenol 500 mg bid", "acetaminophen 650 mg q12h prn",
                            "ibuprofen 400 mg tid", "Mapap 500 mg bid"]))
    def test_order_does_not_change_the_flag(self, lines: list[str]) -> None:
        """One MR009 for the three acetaminophen lines (within the daily maximum: above it,
        MR301 names every line instead), wherever they are."""
        r = medref.check(lines, ADULT)
        (f,) = findings(r, "MR009")
        assert sorted(lines[i] for i in f.lines) == sorted(
            [ln for ln in lines if not ln.startswith("ibuprofen")])


class TestOpioidTotalIncomplete:
    @pytest.mark.parametrize("line", ["hydromorphone q4h prn", "oxycodone 2 tabs q4h",
                                      "morphine 10 mL q4h"])
    def test_opioid_line_without_a_mg_dose_is_reported(self, line: str) -> None:
        r = medref.check(["tramadol 50 mg q6h", line], ADULT)
        assert [f.lines for f in findings(r, "MR307")] == [(1,)]
        assert r.summary.mme_per_day == 40

    def test_table_says_the_total_is_a_lower_bound(self) -> None:
        out = CliRunner().invoke(cli, ["check", "tramadol 50 mg q6h", "hydromorphone q4h prn"])
        assert "opioids at least 40 MME/day" in out.output
        assert "MR307: some opioid lines were not counted" in out.output

    def test_complete_total_is_not_qualified(self) -> None:
        out = CliRunner().invoke(cli, ["check", "tramadol 50 mg q6h"])
        assert "opioids 40 MME/day" in out.output and "at least" not in out.output


class TestUnverifiedIsNotWordedAsLabeled:
    def test_unverified_single_dose_limit_is_not_called_labeled(self) -> None:
        """Acetaminophen's 1,000 mg per dose is general knowledge in the facts file."""
        r = medref.check(["acetaminophen 1300 mg q8h"], ADULT)
        (f,) = findings(r, "MR101")
        assert "exceeds the maximum for immediate-release" in f.message
        assert "of 1,000 mg per dose" in f.message
        assert "labeled" not in f.message and "not verified" in f.message
        # 1,300 mg q8h is how Tylenol 8 HR is taken: with the formulation unstated, the IR
        # per-dose finding is at most a warning and names the ER limit it would meet
        assert f.severity == "warning"
        assert "within the ER maximum of 1,300 mg" in f.message

    def test_verified_limit_is_still_called_labeled(self) -> None:
        (f,) = findings(medref.check(["ibuprofen 800 mg q4h"], ADULT), "MR102")
        assert "labeled maximum of 3,200 mg/day" in f.message

    def test_every_enforced_limit_message_matches_its_verified_flag(self) -> None:
        """For each entry's first default single-dose limit, exceed it and read the wording."""
        ref = load_reference()
        seen = 0
        for e in ref.entries.values():
            for lim in e.get("limits", ()):
                if (lim["kind"] != "single" or lim.get("when") or lim.get("routes")
                        or lim.get("formulations")):
                    continue  # (a formulation's limit: the name alone may read as another)
                r = medref.check([f"{e['name']} {lim['amount'] * 2:g} {lim['unit']} once"],
                                 ADULT)
                msgs = [f.message for f in findings(r, "MR101")]
                assert msgs, e["id"]
                assert any(("labeled maximum" in m) == bool(lim.get("verified", True))
                           for m in msgs), (e["id"], msgs)
                seen += 1
                break
        assert seen >= 10

    def test_unverified_bone_healing_grade_is_marked(self) -> None:
        (f,) = findings(medref.check(["prednisone 10 mg daily"], ADULT), "MR201")
        assert "evidence moderate, grade not verified" in f.message
        (g,) = findings(medref.check(["omeprazole 20 mg daily"], ADULT), "MR201")
        assert "grade not verified" not in g.message

    def test_operational_nsaid_window_is_named_as_such(self) -> None:
        ctx = Context(age=50, crcl=90, hepatic_impairment=False, weeks_since_surgery=4)
        (f,) = findings(medref.check(["ibuprofen 400 mg tid"], ctx), "MR201")
        assert f.severity == "warning"  # raised from info? no: NSAIDs start at warning, cap
        assert "not a published figure" in f.message

    def test_nsaid_high_dose_threshold_says_what_it_is(self) -> None:
        (f,) = findings(medref.check(["ibuprofen 800 mg qid"], ADULT), "MR201")
        assert "not a published cut-off" in f.message


class TestBoneHealingLevels:
    def test_ketorolac_at_a_normal_dose_is_a_caution(self) -> None:
        """Facts §4: avoid ketorolac above 120 mg/day or beyond 48 h, not at every dose."""
        (f,) = findings(medref.check(["ketorolac 10 mg po q6h"], ADULT), "MR201")
        assert f.severity == "warning" and "(caution" in f.message

    def test_ketorolac_above_120_mg_a_day_is_raised(self) -> None:
        """Raised from the normal-dose caution to the warning cap (alert policy: bone-healing
        findings are at most warnings), saying why."""
        (f,) = findings(medref.check(["ketorolac 30 mg iv q4h"], ADULT), "MR201")
        assert f.severity == "warning" and "120 mg/day" in f.message

    def test_nicotine_replacement_is_not_graded_like_smoking(self) -> None:
        r = medref.check(["nicotine patch 21 mg daily", "smoking"], ADULT)
        by_item = {f.items[0]: f for f in findings(r, "MR201")}
        assert by_item["nicotine"].severity == "warning"
        nrt = by_item["nicotine-replacement"]
        assert nrt.severity == "info" and "evidence unverified" in nrt.message
        assert r.items[0].product == "nicotine-replacement"


class TestStructuredDosesAreExact:
    def test_a_dose_just_over_the_maximum_is_not_rounded_under_it(self) -> None:
        """0.0204 mg teriparatide is 20.4 mcg, over the 20 mcg maximum; it used to become
        0.02 mg."""
        r = medref.check([{"name": "teriparatide", "dose": 0.0204, "unit": "mg",
                           "frequency": "daily"}], ADULT)
        assert r.items[0].input == "teriparatide 0.0204 mg daily"
        assert findings(r, "MR101")

    def test_a_small_dose_is_not_rounded_to_zero(self) -> None:
        r = medref.check([{"name": "vitamin k2", "dose": 0.0002, "unit": "g",
                           "frequency": "daily"}], ADULT)
        assert not findings(r, "MR001")
        assert r.items[0].input == "vitamin k2 0.0002 g daily"

    @settings(max_examples=60, deadline=None)
    @given(st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False))
    def test_the_line_carries_the_dose_as_given(self, dose: float) -> None:
        item = medref.check([{"name": "ibuprofen", "dose": dose, "unit": "mg"}]).items[0]
        assert float(item.input.split()[1]) == dose
        assert item.dose == dose


@pytest.mark.parametrize("items", ["ibuprofen 800 mg tid", b"ibuprofen 800 mg tid",
                                   {"name": "ibuprofen"}])
def test_a_single_line_instead_of_a_list_is_a_type_error(items: object) -> None:
    with pytest.raises(TypeError, match="wrap one line in a list"):
        medref.check(items)  # type: ignore[arg-type]
