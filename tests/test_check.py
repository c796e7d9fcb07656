"""The check engine (``medref.check``) and the ``medref check`` command.

Each rule (finding code) has a positive and a negative case; the acceptance regimens are
asserted both through ``check()`` and through the CLI's exit code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from medref.api import check
from medref.checks import all_checks, codes_of
from medref.cli import cli
from medref.engine import ENGINE_CODES
from medref.errors import InputError
from medref.reference import load_reference
from medref.regimen import FhirEntry
from medref.result import CheckResult, Context, Finding
from medref.schema import json_schemas
from medref.vocab import CATEGORIES, SEVERITIES, STATUSES

REF = load_reference()

ADULT = Context(age=40, crcl=90, hepatic_impairment=False, weeks_since_surgery=52)
"""A context with every value given, so no MR602 'context not given' findings appear."""


def run(lines: Sequence[Any], ctx: Context | None = None) -> CheckResult:
    return check(list(lines), ctx)


def codes(result: CheckResult) -> set[str]:
    return {f.code for f in result.findings}


def only(result: CheckResult, code: str) -> Finding:
    found = [f for f in result.findings if f.code == code]
    assert len(found) == 1, (code, [(f.code, f.message) for f in result.findings])
    return found[0]


def of(result: CheckResult, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]


def cli_run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def ctx_flags(ctx: Context | None) -> list[str]:
    if ctx is None:
        return []
    flags = []
    if ctx.age is not None:
        flags += ["--age", str(ctx.age)]
    if ctx.crcl is not None:
        flags += ["--crcl", str(ctx.crcl)]
    if ctx.hepatic_impairment is not None:
        flags.append("--hepatic-impairment" if ctx.hepatic_impairment
                     else "--no-hepatic-impairment")
    if ctx.weeks_since_surgery is not None:
        flags += ["--weeks-since-surgery", str(ctx.weeks_since_surgery)]
    return flags


# -- every rule: a positive and a negative case -------------------------------------------------

CODES = codes_of(all_checks(), ENGINE_CODES)

def _order(text: str) -> FhirEntry:
    """A FHIR MedicationRequest for acetaminophen 1,000 mg q6h with ``text`` as its text."""
    res = {"resourceType": "MedicationRequest", "id": "x", "status": "active",
           "medicationCodeableConcept": {"text": "acetaminophen"},
           "dosageInstruction": [{"text": text, "timing": {"repeat": {
               "frequency": 1, "period": 6, "periodUnit": "h"}},
               "doseAndRate": [{"doseQuantity": {"value": 1000, "unit": "mg"}}]}]}
    return FhirEntry(res, None, "MedicationRequest/x", "input")


RULES: list[tuple[str, list[Any], Context | None, list[Any], Context | None]] = [
    # code, positive lines, context, negative lines, context
    ("MR001", ["800 mg daily"], None, ["ibuprofen 800 mg tid"], None),
    ("MR001", ["ibuprofen 800 mg q0h"], None, ["ibuprofen 800 mg q8h"], None),
    ("MR002", ["foobarium 10 mg daily"], None, ["ibuprofen 400 mg tid"], None),
    ("MR003", ["ibuprofen"], None, ["ibuprofen 400 mg tid"], None),
    ("MR004", ["PRP"], None, ["vitamin D 1000 IU daily"], None),
    ("MR004", ["vitamin K2 100 mcg daily"], None, ["magnesium 200 mg daily"], None),
    ("MR005", ["Tylenol 2 tablets q6h"], None, ["Tylenol 2 x 500 mg q6h"], None),
    ("MR005", ["magnesium 5 mL daily"], None, ["magnesium 200 mg daily"], None),
    ("MR006", ["ibuprofen 800 mg"], None, ["ibuprofen 800 mg tid"], None),
    ("MR007", ["ibuprofen 400 mg tid blah"], None, ["ibuprofen 400 mg tid"], None),
    ("MR101", ["ibuprofen 1200 mg once"], None, ["ibuprofen 400 mg once"], None),
    ("MR102", ["tramadol 50-100 mg q4-6h prn"], None, ["tramadol 50 mg q6h"], None),
    ("MR103", ["tizanidine 4 mg q4h"], None, ["tizanidine 4 mg q8h"], None),
    ("MR104", ["ibuprofen 100 mg tid"], None, ["ibuprofen 400 mg tid"], None),
    ("MR105", ["vitamin D 5000 IU daily"], None, ["vitamin D 1000 IU daily"], None),
    ("MR106", ["duloxetine 60 mg bid"], None, ["duloxetine 60 mg daily"], None),
    ("MR108", ["ibuprofen 400 mg q8h"], Context(age=4, weight=15),
     ["ibuprofen 100 mg q8h"], Context(age=4, weight=15)),
    ("MR109", ["acetaminophen 650 mg q4h"], Context(age=10, weight=30),
     ["acetaminophen 325 mg q6h"], Context(age=10, weight=30)),
    ("MR604", ["cyclobenzaprine 10 mg tid"], Context(age=72),
     ["cyclobenzaprine 10 mg tid"], Context(age=50)),
    ("MR010", ["calcium carbonate 1250 mg bid"], None, ["ibuprofen 400 mg tid"], None),
    ("MR010", ["Percocet 1 tab q6h prn"], None, ["Percocet 5/325 1 tab q6h prn"], None),
    ("MR011", ["acetaminophen 500 mg 1-2 tabs q4h prn, max 8 tabs a day"], None,
     ["acetaminophen 500 mg 1-2 tabs q6h prn"], None),
    ("MR012", ["acetaminophen 500 mg 2 tabs q4h prn, max 12 tabs a day"], None,
     ["acetaminophen 500 mg 2 tabs q4h prn, max 8 tabs a day"], None),
    ("MR107", ["tramadol 100 mg qid"], Context(age=80), ["tramadol 100 mg qid"],
     Context(age=40)),
    ("MR201", ["Advil 800 mg tid"], None, ["acetaminophen 500 mg q6h"], None),
    ("MR301", ["acetaminophen 650 mg q6h", "Tylenol 500 mg q6h"], None,
     ["acetaminophen 500 mg q6h", "Tylenol 500 mg q6h"], None),
    ("MR302", ["ibuprofen 400 mg tid", "naproxen 250 mg bid"], None,
     ["ibuprofen 400 mg tid", "acetaminophen 500 mg q6h"], None),
    ("MR303", ["tramadol 50 mg q6h", "fluoxetine 20 mg daily"], None,
     ["acetaminophen 500 mg q6h", "fluoxetine 20 mg daily"], None),
    ("MR008", ["calcium 500 mg daily", "calcium 500 mg daily"], None,
     ["calcium 500 mg daily", "vitamin D 1000 IU daily"], None),
    ("MR009", ["Tylenol 500 mg q6h", "acetaminophen 500 mg q6h"], None,
     ["Tylenol 500 mg q6h", "Tylenol 500 mg q6h"], None),
    ("MR009", ["ketorolac 30 mg iv q6h", "ketorolac 10 mg po q6h"], None,
     ["ketorolac 10 mg po q6h", "ibuprofen 400 mg tid"], None),
    ("MR307", ["tramadol 50 mg q6h", "hydromorphone q4h prn"], None,
     ["tramadol 50 mg q6h", "hydromorphone 2 mg q4h prn"], None),
    ("MR304", ["alendronate 70 mg weekly", "calcium citrate 500 mg bid"], None,
     ["calcium citrate 500 mg bid", "vitamin D 1000 IU daily"], None),
    ("MR305", ["oxycodone 5 mg q6h", "hydromorphone 2 mg q6h"], None,
     ["oxycodone 5 mg q6h"], None),
    ("MR306", ["oxycodone 30 mg q4h"], None,
     ["oxycodone 5 mg q6h", "hydromorphone 2 mg q6h"], None),
    ("MR307", ["morphine 10 mg iv q4h"], None, ["morphine 10 mg po q4h"], None),
    ("MR401", ["vitamin D 5000 IU daily"], None, ["vitamin D 1000 IU daily"], None),
    ("MR402", ["calcium carbonate 1250 mg bid", "calcium citrate 600 mg bid"], Context(age=60),
     ["calcium carbonate 1250 mg bid", "calcium citrate 600 mg bid"], Context(age=30)),
    ("MR501", ["ketorolac 10 mg q6h x 7 days"], None, ["ketorolac 10 mg q6h x 5 days"], None),
    ("MR502", ["romosozumab 210 mg sc monthly x 14 months"], None,
     ["romosozumab 210 mg sc monthly x 12 months"], None),
    ("MR601", ["zoledronic acid 5 mg iv yearly"], Context(crcl=25),
     ["zoledronic acid 5 mg iv yearly"], Context(crcl=50)),
    ("MR602", ["tramadol 50 mg q6h"], None, ["tramadol 50 mg q6h"], ADULT),
    ("MR013", [_order("500 mg every 6 hours")], None, [_order("1 g every 6 hours")], None),
    ("MR014", ["ibuprofen 400 mg sc q6h"], None, ["ibuprofen 400 mg po q6h"], None),
]


def test_rule_table_covers_every_code() -> None:
    """The table below has a case for every code in medref.codes."""
    assert {r[0] for r in RULES} == set(CODES)


@pytest.mark.parametrize(("code", "lines", "ctx"), [(r[0], r[1], r[2]) for r in RULES],
                         ids=[f"{r[0]}-{str(r[1][0])[:40]}" for r in RULES])
def test_rule_fires(code: str, lines: list[str], ctx: Context | None) -> None:
    """The positive case produces the code."""
    assert code in codes(run(lines, ctx))


@pytest.mark.parametrize(("code", "lines", "ctx"), [(r[0], r[3], r[4]) for r in RULES],
                         ids=[f"{r[0]}-{str(r[3][0])[:40]}" for r in RULES])
def test_rule_stays_quiet(code: str, lines: list[str], ctx: Context | None) -> None:
    """The negative case does not produce the code."""
    assert code not in codes(run(lines, ctx))


# -- acceptance regimens ------------------------------------------------------------------------

class TestTramadolPrnRange:
    LINE = "tramadol 50-100 mg q4-6h prn"

    def test_worst_case_above_daily_max(self) -> None:
        """100 mg x 6 administrations = 600 mg/day, above the 400 mg/day label maximum."""
        f = only(run([self.LINE]), "MR102")
        assert f.severity == "error"
        assert "600" in f.message and "400" in f.message
        assert (f.items, f.lines, f.category) == (("tramadol",), (0,), "daily-max")

    def test_item_daily_total(self) -> None:
        """The item reports the worst case and the enforced maximum."""
        item = run([self.LINE]).items[0]
        assert (item.daily_total, item.daily_unit, item.daily_max) == (600, "mg", 400)
        assert item.administrations_per_day == 6 and item.prn

    def test_cli_exit_1(self) -> None:
        """The CLI exits 1."""
        assert cli_run("check", self.LINE).exit_code == 1


class TestUpperIntakeBands:
    def test_finding_names_the_band_applied(self) -> None:
        """2,400 mg/day of calcium is above the 2,000 mg/day UL for age 51 and over, not the
        2,500 mg/day one for age 19-50; the finding names the band, not the patient's age."""
        line = ["calcium citrate 1200 mg bid"]
        f = only(run(line, Context(age=60)), "MR401")
        assert "2,000 mg/day for age 51 and over" in f.message
        assert "MR401" not in codes(run(line, Context(age=40)))

    def test_age_outside_every_band_is_unverifiable(self) -> None:
        """Boron's ULs start at 1 year: an infant's amount cannot be compared, and the finding
        lists the bands on file."""
        f = only(run(["boron 10 mg daily"], Context(age=0)), "MR004")
        assert f.severity == "info"  # the alert policy: no limit on file is context
        assert "bands on file:" in f.message and "age 1-3" in f.message


class TestContextMaximum:
    def test_item_is_measured_against_the_maximum_for_its_age(self) -> None:
        """At 80, tramadol's maximum is 300 mg/day (76 and over): 400 mg/day is 133.3% of it,
        as the MR107 finding says, not 100% of the general 400 mg/day."""
        result = run(["tramadol 100 mg q6h"], Context(age=80))
        item = result.items[0]
        assert (item.daily_total, item.daily_max, item.percent_of_max) == (400, 300, 133.3)
        assert "300 mg/day" in only(result, "MR107").message
        younger = run(["tramadol 100 mg q6h"], Context(age=50)).items[0]
        assert (younger.daily_max, younger.percent_of_max) == (400, 100.0)


class TestAcetaminophen:
    def test_4g_a_day_is_at_not_above(self) -> None:
        """1,000 mg q6h is exactly 4 g/day: no daily-max error."""
        result = run(["acetaminophen 1000 mg q6h"])
        assert not codes(result) & {"MR102", "MR301"}
        assert not [f for f in result.findings if f.severity == "error"]
        assert cli_run("check", "acetaminophen 1000 mg q6h").exit_code == 0

    def test_q4h_is_an_error(self) -> None:
        """1,000 mg q4h is 6 g/day: an error."""
        result = run(["acetaminophen 1000 mg q4h"])
        f = only(result, "MR102")
        assert f.severity == "error"
        assert "6,000" in f.message and "4,000" in f.message
        assert cli_run("check", "acetaminophen 1000 mg q4h").exit_code == 1

    def test_two_lines_sum_above_the_maximum(self) -> None:
        """650 mg q6h + Tylenol 500 mg q6h = 4,600 mg/day, with each line's contribution."""
        lines = ["acetaminophen 650 mg q6h", "Tylenol 500 mg q6h"]
        result = run(lines)
        f = only(result, "MR301")
        assert f.severity == "error"
        assert f.lines == (0, 1)
        assert f.items == ("acetaminophen",)
        assert "4,600" in f.message and "4,000" in f.message
        assert "2,600" in f.message and "2,000" in f.message
        assert "MR102" not in codes(result)
        assert cli_run("check", *lines).exit_code == 1

    def test_each_line_alone_is_within_the_maximum(self) -> None:
        """Neither line alone exceeds the maximum."""
        for line in ("acetaminophen 650 mg q6h", "Tylenol 500 mg q6h"):
            assert not codes(run([line])) & {"MR102", "MR301"}

    def test_hepatic_impairment_lowers_the_maximum(self) -> None:
        """With hepatic impairment the maximum is 3 g/day: 1 g q6h is flagged (MR107), a
        warning: the 3 g figure is general knowledge, not a consulted source (alert policy)."""
        f = only(run(["acetaminophen 1 g q6h"], Context(hepatic_impairment=True)), "MR107")
        assert f.severity == "warning"
        assert "3,000" in f.message and "4,000" in f.message
        result = cli_run("check", "acetaminophen 1 g q6h", "--hepatic-impairment")
        assert result.exit_code == 1

    def test_no_hepatic_impairment_no_adjusted_maximum(self) -> None:
        """Without hepatic impairment 1 g q6h is not flagged."""
        result = run(["acetaminophen 1 g q6h"], Context(hepatic_impairment=False))
        assert not codes(result) & {"MR102", "MR107", "MR301"}


class TestBoneHealing:
    def test_advil_bone_healing_warning(self) -> None:
        """Advil 800 mg tid: a bone-healing warning naming ibuprofen with its rationale."""
        result = run(["Advil 800 mg tid"])
        f = only(result, "MR201")
        assert f.severity == "warning"
        assert f.category == "bone-healing"
        assert f.items == ("ibuprofen",)
        assert "Ibuprofen" in f.message
        rationale = REF.entries["ibuprofen"]["bone_healing"]["rationale"]
        assert rationale.rstrip(".")[:60] in f.message
        assert cli_run("check", "Advil 800 mg tid").exit_code == 1

    def test_early_window_raises_severity(self) -> None:
        """4 weeks after surgery raises ibuprofen's concern; bone-healing findings are at most
        warnings (alert policy), and the message says why it was raised."""
        f = only(run(["ibuprofen 400 mg tid"], Context(weeks_since_surgery=4)), "MR201")
        assert f.severity == "warning"
        assert "4 weeks" in f.message

    def test_late_window_keeps_severity(self) -> None:
        """52 weeks after surgery the concern stays a warning."""
        f = only(run(["ibuprofen 400 mg tid"], Context(weeks_since_surgery=52)), "MR201")
        assert f.severity == "warning"

    def test_early_window_via_cli(self) -> None:
        """The CLI flag reaches the rule."""
        result = cli_run("check", "ibuprofen 400 mg tid", "--weeks-since-surgery", "4",
                         "--format", "json", "--fail-on", "warning")
        assert result.exit_code == 1
        msgs = [f["message"] for f in json.loads(result.stdout)["findings"]
                if f["code"] == "MR201"]
        assert len(msgs) == 1 and "4 weeks since surgery" in msgs[0]

    @pytest.mark.parametrize(("line", "eid"), [
        ("prednisone 10 mg daily", "prednisone"),
        ("prednisolone 5 mg daily", "prednisolone"),
        ("methylprednisolone 4 mg daily", "methylprednisolone"),
        ("Medrol Dosepak", "methylprednisolone"),
        ("dexamethasone 4 mg daily", "dexamethasone"),
        ("hydrocortisone 20 mg daily", "hydrocortisone"),
        ("nicotine patch 21 mg daily", "nicotine-replacement"),
        ("smoking", "nicotine"),
        ("cigarettes 10 daily", "nicotine"),
        ("vaping", "nicotine"),
    ])
    def test_corticosteroids_and_nicotine_are_flagged(self, line: str, eid: str) -> None:
        """Screening-only agents are recognised and carry their bone-healing flag."""
        result = run([line])
        assert result.items[0].product == eid
        assert result.items[0].status != "unknown"
        f = only(result, "MR201")
        assert f.items == (eid,)
        # nicotine replacement's own effect on fusion is unverified: context, not a warning
        assert f.severity == ("info" if eid == "nicotine-replacement" else "warning")
        assert "MR002" not in codes(result)

    def test_nicotine_is_a_warning(self) -> None:
        """Nicotine is an 'avoid' concern: a warning (bone-healing findings are at most
        warnings under the alert policy), and it says avoid."""
        f = only(run(["smoking"]), "MR201")
        assert f.severity == "warning" and "avoid" in f.message

    def test_acetaminophen_has_no_bone_concern(self) -> None:
        """Acetaminophen is not flagged for bone healing."""
        assert "MR201" not in codes(run(["acetaminophen 500 mg q6h"]))


class TestAlendronate:
    def test_weekly_is_clean(self) -> None:
        """70 mg weekly is the labeled regimen: exit 0."""
        result = run(["alendronate 70 mg weekly"])
        assert result.exit_code() == 0
        assert not codes(result) & {"MR101", "MR102", "MR103"}
        assert cli_run("check", "alendronate 70 mg weekly").exit_code == 0

    def test_daily_70_mg_is_an_error(self) -> None:
        """70 mg daily is 490 mg/week: an error."""
        result = run(["alendronate 70 mg daily"])
        f = only(result, "MR102")
        assert f.severity == "error"
        assert "490" in f.message and "70" in f.message
        assert cli_run("check", "alendronate 70 mg daily").exit_code == 1

    def test_with_calcium_is_an_administration_finding(self) -> None:
        """Alendronate with calcium citrate: separate the doses (MR304)."""
        result = run(["alendronate 70 mg weekly", "calcium citrate 500 mg bid"])
        found = [f for f in of(result, "MR304") if f.rule == "alendronate-with-minerals"]
        assert len(found) == 1
        f = found[0]
        assert f.category == "administration"
        assert f.items == ("alendronate", "calcium-citrate")
        assert f.lines == (0, 1)

    def test_with_another_oral_medicine_is_an_administration_finding(self) -> None:
        """Alendronate with another oral medicine: take the other one at least 30 min later.

        interactions.json has the group rule ``alendronate-with-other-oral-items`` for this.
        """
        result = run(["alendronate 70 mg weekly", "acetaminophen 500 mg q6h"])
        rules = {f.rule for f in of(result, "MR304")}
        assert "alendronate-with-other-oral-items" in rules

    def test_strontium_with_calcium(self) -> None:
        """Strontium with calcium: separate by 2 hours (MR304)."""
        result = run(["strontium 680 mg daily", "calcium 500 mg bid"])
        found = [f for f in of(result, "MR304") if f.rule == "strontium-with-calcium"]
        assert len(found) == 1
        assert found[0].items == ("calcium-citrate", "strontium-citrate")

    def test_calcium_alone_has_no_administration_finding(self) -> None:
        """A single product triggers no pair rule."""
        assert "MR304" not in codes(run(["calcium citrate 500 mg bid"]))


class TestOpioids:
    def test_mme_summed_across_opioids(self) -> None:
        """Oxycodone 5 mg q6h (30) + hydromorphone 2 mg q6h (40) = 70 MME/day."""
        result = run(["oxycodone 5 mg q6h", "hydromorphone 2 mg q6h"])
        f = only(result, "MR305")
        assert f.severity == "warning"
        assert f.items == ("hydromorphone", "oxycodone")
        assert f.lines == (0, 1)
        assert "70" in f.message and "30" in f.message and "40" in f.message
        assert result.summary.mme_per_day == 70
        assert [i.mme_per_day for i in result.items] == [30, 40]

    @pytest.mark.parametrize("line", ["oxycodone 5 mg q6h", "hydromorphone 2 mg q6h"])
    def test_each_alone_is_below_the_threshold(self, line: str) -> None:
        """Each opioid alone is below 50 MME/day."""
        assert not codes(run([line])) & {"MR305", "MR306"}

    def test_high_mme(self) -> None:
        """Oxycodone 30 mg q4h = 270 MME/day: at or above 90 (MR306, a warning: CDC frames
        it as a threshold to reassess, and the message says so)."""
        f = only(run(["oxycodone 30 mg q4h"]), "MR306")
        assert f.severity == "warning" and "270" in f.message
        assert "not a limit" in f.message

    def test_non_oral_route_is_not_converted(self) -> None:
        """IV morphine: MME not computed (MR307), and not counted in the total."""
        result = run(["morphine 10 mg iv q4h"])
        assert "MR307" in codes(result)
        assert result.summary.mme_per_day is None

    def test_tramadol_with_fluoxetine(self) -> None:
        """Tramadol + fluoxetine: an interaction with mechanism and action."""
        result = run(["tramadol 50 mg q6h", "fluoxetine 20 mg daily"])
        found = of(result, "MR303")
        assert found
        for f in found:
            assert f.category == "interaction"
            assert f.items == ("fluoxetine", "tramadol")
            assert f.lines == (0, 1)
            assert "Action:" in f.message
            rule = next(r for r in REF.raw_rules if r["id"] == f.rule)
            assert rule["mechanism"][:40] in f.message
        assert cli_run("check", "tramadol 50 mg q6h", "fluoxetine 20 mg daily").exit_code == 1

    def test_ketorolac_with_ibuprofen(self) -> None:
        """Ketorolac + ibuprofen: an error naming both."""
        result = run(["ketorolac 10 mg q6h", "ibuprofen 400 mg q8h"])
        both = [f for f in result.findings
                if f.severity == "error" and set(f.items) == {"ibuprofen", "ketorolac"}]
        assert both
        assert any(f.code == "MR303" for f in both)
        assert "Ibuprofen" in both[0].message and "Ketorolac" in both[0].message
        lines = ["ketorolac 10 mg q6h", "ibuprofen 400 mg q8h"]
        assert cli_run("check", *lines, "--fail-on", "error").exit_code == 1


class TestContext:
    def test_age_adjusted_tramadol_maximum(self) -> None:
        """Age 80: tramadol 100 mg qid (400 mg/day) is above the 300 mg/day maximum over 75."""
        f = only(run(["tramadol 100 mg qid"], Context(age=80)), "MR107")
        assert f.severity == "error"
        assert "300" in f.message and "400" in f.message
        assert cli_run("check", "tramadol 100 mg qid", "--age", "80",
                       "--fail-on", "error").exit_code == 1

    def test_without_age_the_adjusted_maximum_is_not_applied(self) -> None:
        """Without an age there is no MR107, but an MR602 note that age was needed."""
        result = run(["tramadol 100 mg qid"])
        assert "MR107" not in codes(result)
        notes = [f for f in of(result, "MR602") if "age" in f.message]
        assert len(notes) == 1
        assert notes[0].severity == "info" and notes[0].items == ("tramadol",)

    def test_crcl_contraindicates_zoledronic_acid(self) -> None:
        """CrCl 25: zoledronic acid is contraindicated (MR601 error)."""
        f = only(run(["zoledronic acid 5 mg iv yearly"], Context(crcl=25)), "MR601")
        assert f.severity == "error"
        assert f.items == ("zoledronic-acid",)
        result = cli_run("check", "zoledronic acid 5 mg iv yearly", "--crcl", "25")
        assert result.exit_code == 1

    def test_crcl_lowers_tramadol_maximum(self) -> None:
        """CrCl 25: tramadol 100 mg q6h (400 mg/day) is above 200 mg/day (MR107)."""
        f = only(run(["tramadol 100 mg q6h"], Context(crcl=25)), "MR107")
        assert f.severity == "error"
        assert "200" in f.message and "400" in f.message

    def test_full_context_leaves_nothing_unchecked(self) -> None:
        """With every context value given, no MR602 appears."""
        lines = ["tramadol 50 mg q6h", "ibuprofen 400 mg tid", "calcium 500 mg bid",
                 "zoledronic acid 5 mg iv yearly"]
        assert "MR602" not in codes(run(lines, ADULT))

    def test_each_missing_value_reported_once(self) -> None:
        """MR602 appears once per missing context value, however many rules needed it."""
        result = run(["tramadol 50 mg q6h", "ketorolac 10 mg q6h", "calcium 500 mg bid"])
        notes = of(result, "MR602")
        assert len({f.message.split(" not given")[0] for f in notes}) == len(notes)


class TestSupplements:
    def test_vitamin_d_above_upper_limit(self) -> None:
        """Vitamin D 5,000 IU daily is above the 4,000 IU UL."""
        f = only(run(["vitamin D 5000 IU daily"]), "MR401")
        assert f.category == "upper-limit"
        assert "5,000" in f.message and "4,000" in f.message

    def test_calcium_by_age_band_under_51(self) -> None:
        """Age 30: 1,200 mg bid = 2,400 mg/day is within the 2,500 mg UL."""
        assert "MR401" not in codes(run(["calcium 1200 mg bid"], Context(age=30)))

    def test_calcium_by_age_band_over_50(self) -> None:
        """Age 60: 2,400 mg/day is above the 2,000 mg UL."""
        f = only(run(["calcium 1200 mg bid"], Context(age=60)), "MR401")
        assert "2,400" in f.message and "2,000" in f.message

    def test_magnesium_supplemental_upper_limit(self) -> None:
        """Magnesium 400 mg daily is above the 350 mg supplemental UL."""
        f = only(run(["magnesium 400 mg daily"]), "MR401")
        assert "350" in f.message

    @pytest.mark.parametrize(("line", "limit"), [("boron 25 mg daily", "20"),
                                                 ("manganese 12 mg daily", "11")])
    def test_trace_elements(self, line: str, limit: str) -> None:
        """Boron 25 mg and manganese 12 mg exceed their adult ULs."""
        f = only(run([line]), "MR401")
        assert f" {limit} mg" in f.message

    def test_vitamin_k2_has_no_limit_on_file(self) -> None:
        """Vitamin K2 has no UL: 'no limit on file' is said (MR004, info under the alert
        policy), not a silent pass."""
        result = run(["vitamin K2 100 mcg daily"])
        f = only(result, "MR004")
        assert f.severity == "info"
        assert "no" in f.message.lower() and "limit" in f.message.lower()
        assert result.exit_code("info") == 1

    def test_upper_limit_sums_lines(self) -> None:
        """Two vitamin D lines are summed against the UL."""
        result = run(["vitamin D 2000 IU daily", "vitamin D3 2500 IU daily"])
        f = only(result, "MR401")
        assert f.lines == (0, 1)
        assert "4,500" in f.message


class TestDuration:
    def test_ketorolac_over_five_days(self) -> None:
        """Ketorolac for 7 days exceeds the 5-day limit (MR501)."""
        f = only(run(["ketorolac 10 mg q6h x 7 days"]), "MR501")
        assert f.severity == "error" and "7" in f.message and "5" in f.message

    def test_cyclobenzaprine_over_three_weeks(self) -> None:
        """Cyclobenzaprine for 4 weeks exceeds the 21-day limit (MR501)."""
        f = only(run(["cyclobenzaprine 10 mg tid x 4 weeks"]), "MR501")
        assert "28" in f.message and "21" in f.message

    @pytest.mark.parametrize("line", ["ketorolac 10 mg q6h x 5 days",
                                      "cyclobenzaprine 10 mg tid x 2 weeks",
                                      "cyclobenzaprine 10 mg tid x 21 days"])
    def test_within_limits(self, line: str) -> None:
        """Durations at or under the limit are not flagged."""
        assert "MR501" not in codes(run([line]))


class TestUnverifiable:
    def test_unknown_name(self) -> None:
        """An unknown name: MR002 warning, status 'unknown'."""
        result = run(["foobarium 10 mg daily"])
        f = only(result, "MR002")
        assert f.severity == "warning" and f.items == () and f.lines == (0,)
        assert result.items[0].status == "unknown"
        assert result.items[0].product is None

    def test_unreadable_line(self) -> None:
        """A line with no name: MR001, status 'unparseable'."""
        result = run(["800 mg daily"])
        assert only(result, "MR001").lines == (0,)
        assert result.items[0].status == "unparseable"

    def test_line_without_a_dose(self) -> None:
        """A known drug without a dose: MR003."""
        result = run(["ibuprofen tid"])
        assert only(result, "MR003").items == ("ibuprofen",)
        assert result.items[0].status == "unverifiable"

    @pytest.mark.parametrize(("line", "eid"), [
        ("PRP", "platelet-rich-plasma"),
        ("PRP injection once", "platelet-rich-plasma"),
        ("autologous BMSC", "autologous-bmsc"),
        ("bone marrow aspirate concentrate", "autologous-bmsc"),
    ])
    def test_therapies_have_no_limit_on_file(self, line: str, eid: str) -> None:
        """PRP and autologous BMSC: 'no limit on file' (MR004), status 'unverifiable'."""
        result = run([line])
        f = only(result, "MR004")
        assert "no limit on file" in f.message
        assert f.items == (eid,)
        assert result.items[0].status == "unverifiable"

    def test_tablets_without_strength(self) -> None:
        """Tylenol 2 tablets q6h: the count cannot be compared with mg limits (MR005)."""
        result = run(["Tylenol 2 tablets q6h"])
        assert only(result, "MR005").items == ("acetaminophen",)
        assert result.items[0].status == "unverifiable"

    def test_no_frequency(self) -> None:
        """Ibuprofen 800 mg with no frequency: MR006; the single dose is still checked."""
        result = run(["ibuprofen 800 mg"])
        assert only(result, "MR006").items == ("ibuprofen",)
        assert result.items[0].daily_total is None
        # the single dose is still compared: 1,200 mg would be flagged
        assert "MR101" in {f.code for f in run(["ibuprofen 1200 mg"]).findings
                           if f.severity == "error"}

    @pytest.mark.parametrize("line", ["ibuprofen -800 mg tid", "ibuprofen 0 mg tid",
                                      "ibuprofen 800 mg q25h", "ibuprofen 800 mg 0 times daily"])
    def test_impossible_values_are_not_checked(self, line: str) -> None:
        """An impossible value: MR001 naming it, status 'unparseable', no dose findings."""
        result = run([line])
        f = only(result, "MR001")
        assert f.items == ("ibuprofen",)
        assert result.items[0].status == "unparseable"
        assert not codes(result) & {"MR101", "MR102", "MR104", "MR105"}

    def test_partly_understood_line_is_still_checked(self) -> None:
        """Unknown words give MR007 while the rest of the line is checked."""
        result = run(["acetaminophen 1000 mg q4h frobnicate"])
        assert {"MR007", "MR102"} <= codes(result)


# -- invariants over many regimens --------------------------------------------------------------

REGIMENS: list[tuple[list[Any], Context | None]] = [
    (["tramadol 50-100 mg q4-6h prn"], None),
    (["acetaminophen 650 mg q6h", "Tylenol 500 mg q6h"], None),
    (["oxycodone 5 mg q6h", "hydromorphone 2 mg q6h"], None),
    (["ketorolac 10 mg q6h", "ibuprofen 400 mg q8h"], Context(weeks_since_surgery=4)),
    (["tramadol 50 mg q6h", "fluoxetine 20 mg daily", "cyclobenzaprine 10 mg tid x 4 weeks"],
     Context(age=80, crcl=25, hepatic_impairment=True)),
    (["alendronate 70 mg weekly", "calcium citrate 500 mg bid", "strontium 680 mg daily",
      "magnesium 400 mg daily", "vitamin D 5000 IU daily", "vitamin K2 100 mcg daily"],
     Context(age=60)),
    (["foobarium 10 mg", "800 mg daily", "ibuprofen", "PRP", "Tylenol 2 tablets q6h",
      "ibuprofen 800 mg", "ibuprofen 800 mg q0h", "smoking", "prednisone 10 mg daily",
      "morphine 10 mg iv q4h", "zoledronic acid 5 mg iv yearly",
      "romosozumab 210 mg sc monthly x 14 months", "gabapentin 600 mg tid",
      "pregabalin 150 mg bid", "tizanidine 4 mg q4h", "clonidine 0.1 mg bid",
      "amitriptyline 25 mg qhs", "duloxetine 60 mg daily", "methocarbamol 1500 mg qid",
      "lidocaine 5% patch 1 patch daily", "capsaicin 0.075% cream tid",
      {"name": "naproxen", "dose": 500, "unit": "mg", "frequency": "bid"}],
     Context(crcl=25)),
]


@pytest.mark.parametrize(("lines", "ctx"), REGIMENS)
def test_result_invariants(lines: list[Any], ctx: Context | None) -> None:
    """Categories, severities, items and lines are well-formed; one item per input line."""
    result = run(lines, ctx)
    assert len(result.items) == len(lines)
    for i, (item, line) in enumerate(zip(result.items, lines, strict=True)):
        assert item.line == i
        if isinstance(line, str):
            assert item.input == line
        assert item.status in STATUSES
        assert item.product is None or item.product in REF.entries
    for f in result.findings:
        assert f.category in CATEGORIES
        assert f.category == CODES[f.code].category, f.code
        assert f.severity in SEVERITIES
        assert all(i in REF.entries for i in f.items), f.items
        assert list(f.items) == sorted(set(f.items))
        assert f.lines and all(0 <= i < len(lines) for i in f.lines)
        assert list(f.lines) == sorted(set(f.lines))
        assert f.message and "\n" not in f.message
    keys = [f.sort_key() for f in result.findings]
    assert keys == sorted(keys)
    assert result.summary.items == len(lines)
    assert result.summary.findings == len(result.findings)


def test_finding_items_name_line_products() -> None:
    """A per-product finding's items are the products on its lines."""
    lines = REGIMENS[-1][0]
    result = run(lines, REGIMENS[-1][1])
    for f in result.findings:
        if f.code in ("MR001", "MR002", "MR602") or not f.items:
            continue
        on_lines = {result.items[i].product for i in f.lines}
        assert set(f.items) <= on_lines, f


# -- structured items and files -----------------------------------------------------------------

EQUIVALENT: list[tuple[dict[str, Any], str]] = [
    ({"name": "tramadol", "dose": 50, "dose_max": 100, "unit": "mg", "frequency": "q4-6h",
      "prn": True}, "tramadol 50-100 mg q4-6h prn"),
    ({"name": "Tylenol", "dose": "500", "unit": "mg", "frequency": "q6h"}, "Tylenol 500 mg q6h"),
    ({"name": "acetaminophen", "dose": 650, "unit": "mg", "frequency": "q6h"},
     "acetaminophen 650 mg q6h"),
    ({"name": "ketorolac", "dose": 10, "unit": "mg", "frequency": "q6h", "duration": 7},
     "ketorolac 10 mg q6h x 7 days"),
    ({"name": "calcium", "dose": 1200, "unit": "mg", "route": "po", "frequency": "bid"},
     "calcium 1200 mg po bid"),
    ({"sig": "fluoxetine 20 mg daily"}, "fluoxetine 20 mg daily"),
]


def _finding_dicts(result: CheckResult) -> list[dict[str, Any]]:
    return [f.to_dict() for f in result.findings]


def test_structured_items_equal_lines() -> None:
    """Structured items give exactly the findings of the equivalent sig lines."""
    ctx = Context(age=60)
    structured = run([s for s, _ in EQUIVALENT], ctx)
    lines = run([t for _, t in EQUIVALENT], ctx)
    assert _finding_dicts(structured) == _finding_dicts(lines)
    assert [i.product for i in structured.items] == [i.product for i in lines.items]
    assert [i.daily_total for i in structured.items] == [i.daily_total for i in lines.items]


@pytest.mark.parametrize(("item", "field"), [
    ({"name": "ibuprofen", "dose": "abc", "unit": "mg", "frequency": "tid"}, "dose"),
    ({"name": "ibuprofen", "dose": -5, "unit": "mg", "frequency": "tid"}, "dose"),
    ({"name": "ibuprofen", "dose": 800, "frequency": "tid"}, "unit"),
    ({"dose": 800, "unit": "mg"}, "name"),
    ({"name": "ibuprofen", "dose": 800, "unit": "mg", "colour": "red"}, "colour"),
    ({"name": "ibuprofen", "dose": 800, "unit": "mg", "prn": "maybe"}, "prn"),
])
def test_bad_structured_item_raises_input_error(item: dict[str, Any], field: str) -> None:
    """A wrongly typed or missing field raises InputError naming the field."""
    with pytest.raises(InputError) as exc:
        check([item])
    assert exc.value.field == field
    assert field in str(exc.value)


def _json_findings(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code in (0, 1), result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return findings


def _write_inputs(tmp_path: Path) -> dict[str, Path]:
    txt = tmp_path / "regimen.txt"
    txt.write_text("# home medicines\n" + "\n".join(t for _, t in EQUIVALENT) + "\n\n",
                   encoding="utf-8")
    js = tmp_path / "regimen.json"
    js.write_text(json.dumps([s for s, _ in EQUIVALENT]), encoding="utf-8")
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"items": [t for _, t in EQUIVALENT]}), encoding="utf-8")
    csv_path = tmp_path / "regimen.csv"
    csv_path.write_text(
        "name,dose,dose_max,unit,frequency,route,prn,duration\n"
        "tramadol,50,100,mg,q4-6h,,yes,\n"
        "Tylenol,500,,mg,q6h,,,\n"
        "acetaminophen,650,,mg,q6h,,,\n"
        "ketorolac,10,,mg,q6h,,,7\n"
        "calcium,1200,,mg,bid,po,,\n"
        "fluoxetine,20,,mg,daily,,,\n", encoding="utf-8")
    return {"txt": txt, "json": js, "wrapped": wrapped, "csv": csv_path}


@pytest.mark.parametrize("kind", ["txt", "json", "wrapped", "csv"])
def test_files_give_the_same_findings_as_lines(tmp_path: Path, kind: str) -> None:
    """--file with .txt, .json and .csv gives the findings of the same lines as arguments."""
    path = _write_inputs(tmp_path)[kind]
    lines = [t for _, t in EQUIVALENT]
    expected = _json_findings(cli_run("check", "--format", "json", "--age", "60", *lines))
    got = _json_findings(cli_run("check", "--format", "json", "--age", "60", "--file",
                                 str(path)))
    assert got == expected
    assert any(f["code"] == "MR301" for f in got)


def test_cli_and_check_agree() -> None:
    """The CLI's JSON findings equal the library's findings for the same lines."""
    lines = [t for _, t in EQUIVALENT]
    got = _json_findings(cli_run("check", "--format", "json", *lines))
    assert got == _finding_dicts(run(lines))


def _one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and "Traceback" not in result.stdout
    assert result.stdout == ""
    for n in needles:
        assert n in err, (n, err)
    assert isinstance(result.exception, SystemExit)


def test_cli_missing_file(tmp_path: Path) -> None:
    """A missing file: exit 2, one line naming the file."""
    path = tmp_path / "nope.json"
    _one_line_error(cli_run("check", "--file", str(path)), str(path), "not found")


def test_cli_malformed_json(tmp_path: Path) -> None:
    """Malformed JSON: exit 2, one line naming the file and the place."""
    path = tmp_path / "bad.json"
    path.write_text('["ibuprofen 800 mg tid",\n  {"name": ]', encoding="utf-8")
    _one_line_error(cli_run("check", "--file", str(path)), str(path), "JSON")


def test_cli_csv_missing_column(tmp_path: Path) -> None:
    """A CSV without a 'sig' or 'name' column: exit 2, naming the file and the column; one
    without a frequency column is checked, each item reported without a frequency (MR006)."""
    path = tmp_path / "meds.csv"
    path.write_text("dose,unit,frequency\n800,mg,tid\n", encoding="utf-8")
    _one_line_error(cli_run("check", "--file", str(path)), str(path), "name")
    path.write_text("name,dose,unit\nibuprofen,800,mg\n", encoding="utf-8")
    res = cli_run("check", "--file", str(path), "--format", "json")
    assert res.exit_code == 1
    assert "MR006" in {f["code"] for f in json.loads(res.stdout)["findings"]}


def test_cli_structured_item_bad_dose(tmp_path: Path) -> None:
    """A structured item with dose 'abc': exit 2, naming the file and the field."""
    path = tmp_path / "items.json"
    path.write_text(json.dumps([{"name": "ibuprofen", "dose": "abc", "unit": "mg",
                                 "frequency": "tid"}]), encoding="utf-8")
    _one_line_error(cli_run("check", "--file", str(path)), str(path), "dose", "abc")


def test_cli_csv_bad_dose(tmp_path: Path) -> None:
    """A CSV row with dose 'abc': exit 2, naming the file and the field."""
    path = tmp_path / "meds.csv"
    path.write_text("name,dose,unit,frequency\nibuprofen,abc,mg,tid\n", encoding="utf-8")
    _one_line_error(cli_run("check", "--file", str(path)), str(path), "dose")


def test_cli_no_regimen() -> None:
    """No lines and no file is a usage error (exit 2)."""
    assert cli_run("check").exit_code == 2


# -- JSON output contract -----------------------------------------------------------------------

@pytest.mark.parametrize(("lines", "ctx"), REGIMENS)
def test_json_output_validates_against_schema(lines: list[Any], ctx: Context | None) -> None:
    """``check --format json`` validates against json_schemas()['output'] (Draft 2020-12)."""
    schema = json_schemas()["output"]
    jsonschema.Draft202012Validator.check_schema(schema)
    args = [x for x in lines if isinstance(x, str)]
    result = cli_run("check", "--format", "json", *ctx_flags(ctx), *args)
    assert result.exit_code in (0, 1), result.stderr
    doc = json.loads(result.stdout)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=str)
    assert not errors, [e.message for e in errors[:5]]
    assert len(doc["items"]) == len(args)


@pytest.mark.parametrize(("lines", "ctx"), REGIMENS)
def test_library_result_validates_against_schema(lines: list[Any], ctx: Context | None) -> None:
    """CheckResult.to_dict() validates too (with structured items)."""
    doc = json.loads(json.dumps(run(lines, ctx).to_dict()))
    jsonschema.validate(doc, json_schemas()["output"], cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(("fail_on", "code"), [("info", 1), ("warning", 1), ("error", 0)])
def test_fail_on_threshold(fail_on: str, code: int) -> None:
    """--fail-on picks the severity that makes the exit code 1."""
    # a warning (MR201) and infos, no error
    result = cli_run("check", "ibuprofen 400 mg tid", "--fail-on", fail_on)
    assert result.exit_code == code


def test_memoised_messages_do_not_carry_another_regimens_positions() -> None:
    """Line and product checks are memoised; their messages must hold for any line position."""
    first = run(["acetaminophen 650 mg q6h", "Tylenol 500 mg q6h"])
    later = run(["ibuprofen 400 mg tid", "gabapentin 300 mg tid", "acetaminophen 650 mg q6h",
                 "vitamin D 1000 IU daily", "Tylenol 500 mg q6h"])
    (a,) = of(first, "MR301")
    (b,) = of(later, "MR301")
    assert a.lines == (0, 1) and b.lines == (2, 4)
    assert a.message == b.message
    assert "2,600 mg from 'acetaminophen 650 mg q6h'" in b.message
    assert "2,000 mg from 'Tylenol 500 mg q6h'" in b.message
    bad = run(["ibuprofen 400 mg tid", ""])
    (f,) = of(bad, "MR001")
    assert f.lines == (1,) and "line 1" not in f.message


@pytest.mark.parametrize(("line", "age", "code", "severity"), [
    # each at its labeled maximum: nothing; above it: the label's finding (data/sources.json)
    ("oxazepam 30 mg qid", None, None, None),
    ("oxazepam 30 mg 5 times a day", None, "MR102", "error"),       # > 120 mg/day
    ("oxazepam 30 mg qid", 70, "MR107", "warning"),                 # older: 60 mg/day
    ("Halcion 0.25 mg 2 tabs hs", None, None, None),                # 0.5 mg once daily
    ("triazolam 0.5 mg 2 tabs hs", None, "MR102", "error"),
    ("triazolam 0.5 mg hs", 70, "MR107", "warning"),                # geriatric: 0.25 mg
    ("Librium 50 mg q4h", None, "MR106", "info"),                   # 300 withdrawal, 100 anxiety
    ("chlordiazepoxide 100 mg q6h", None, "MR102", "error"),        # 400 > 300 mg/day
    ("Tranxene 30 mg tid", None, "MR106", "info"),                  # 90, anxiety 60
    ("clorazepate 30 mg qid", None, "MR102", "error"),
    ("estazolam 2 mg hs", None, None, None),
    ("estazolam 2 mg 2 tabs hs", None, "MR102", "error"),
    ("flurazepam 30 mg hs", 70, "MR107", "warning"),                # elderly: 15 mg
    ("Doral 15 mg 2 tabs hs", None, "MR102", "error"),              # > 15 mg
    ("Onfi 20 mg bid", None, None, None),                           # 40 mg/day
    ("estazolam 1 mg bid", None, "MR103", "error"),                 # at bedtime: once
    ("chlorzoxazone 750 mg qid", None, None, None),                 # 3,000 mg/day
    ("Lorzone 750 mg 5 times a day", None, "MR102", "error"),
    ("Parafon Forte DSC 500 mg 2 tabs tid", None, "MR101", "error"),  # 1,000 > 750 a dose
])
def test_benzodiazepines_and_chlorzoxazone_are_checked_against_their_labels(
        line: str, age: int | None, code: str | None, severity: str | None) -> None:
    r = check([line], context=Context(age=age))
    item = r.items[0]
    assert item.status == "checked" and item.unparsed == ()
    limits = [f for f in r.findings if f.code.startswith(("MR10", "MR11"))]
    if code is None:
        assert limits == [], limits
    else:
        assert [(f.code, f.severity) for f in limits if f.code == code] == [(code, severity)]


def test_clobazam_at_30_kg_or_less_is_held_to_20_mg() -> None:
    at = {w: check(["Onfi 20 mg bid"], context=Context(weight=w)) for w in (25, 30, 31)}
    assert [(f.code, f.severity) for f in at[25].findings if f.code == "MR107"] == [
        ("MR107", "error")]
    assert [f.code for f in at[30].findings if f.code == "MR107"] == ["MR107"]
    assert not [f for f in at[31].findings if f.code.startswith("MR10")]
