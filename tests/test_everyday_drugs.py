"""Everyday drugs of the older fusion patient (blood pressure, lipids, diabetes, thyroid,
sleep, mood, allergy, bladder, gout): recognised with their classes, labeled limits and the
rules that matter with the fusion drugs (NSAIDs with ACE inhibitors, ARBs and diuretics;
levothyroxine with calcium; tramadol with bupropion; opioids with sedating drugs)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import medref
from medref.reference import load_reference
from medref.result import CheckResult, Context, Finding

ADULT = Context(age=50, crcl=90, hepatic_impairment=False, weeks_since_surgery=40)
OLDER = Context(age=72, crcl=90, hepatic_impairment=False, weeks_since_surgery=40)

EVERYDAY = {
    "lisinopril 20 mg po daily": "lisinopril", "Zestril 10 mg daily": "lisinopril",
    "losartan 50 mg daily": "losartan", "Cozaar 100 mg daily": "losartan",
    "amlodipine 5 mg daily": "amlodipine", "Norvasc 10 mg daily": "amlodipine",
    "HCTZ 25 mg daily": "hydrochlorothiazide", "Lasix 40 mg po bid": "furosemide",
    "metoprolol tartrate 25 mg bid": "metoprolol", "Toprol XL 50 mg daily": "metoprolol",
    "atorvastatin 40 mg qhs": "atorvastatin", "Zocor 20 mg qhs": "simvastatin",
    "Crestor 10 mg daily": "rosuvastatin", "metformin 500 mg bid": "metformin",
    "Glucophage XR 500 mg 2 tabs daily": "metformin", "Actos 30 mg daily": "pioglitazone",
    "Invokana 100 mg daily": "canagliflozin", "Jardiance 10 mg daily": "empagliflozin",
    "glipizide 5 mg bid": "glipizide", "trazodone 50 mg qhs": "trazodone",
    "Wellbutrin XL 300 mg daily": "bupropion", "mirtazapine 15 mg qhs": "mirtazapine",
    "Seroquel 25 mg qhs": "quetiapine", "Benadryl 25 mg q6h prn itching": "diphenhydramine",
    "hydroxyzine 25 mg tid prn": "hydroxyzine", "Flomax 0.4 mg daily": "tamsulosin",
    "oxybutynin 5 mg tid": "oxybutynin", "allopurinol 300 mg daily": "allopurinol",
    "Singulair 10 mg qhs": "montelukast", "Zyrtec 10 mg daily": "cetirizine",
    "Claritin 10 mg daily": "loratadine", "vitamin C 500 mg bid": "vitamin-c",
    "valsartan 160 mg daily": "valsartan", "Benicar 20 mg daily": "olmesartan",
    "Avapro 150 mg daily": "irbesartan", "enalapril 10 mg bid": "enalapril",
    "Lotensin 20 mg daily": "benazepril", "atenolol 50 mg daily": "atenolol",
    "Coreg CR 40 mg daily": "carvedilol", "carvedilol 12.5 mg bid": "carvedilol",
    "Inderal LA 120 mg daily": "propranolol", "Cardizem CD 240 mg daily": "diltiazem",
    "diltiazem 60 mg qid": "diltiazem", "Calan SR 240 mg daily": "verapamil",
    "Procardia XL 60 mg daily": "nifedipine", "Adalat CC 30 mg daily": "nifedipine",
    "pravastatin 40 mg qhs": "pravastatin", "lovastatin 20 mg daily": "lovastatin",
    "polyethylene glycol 17 g daily": "polyethylene-glycol-3350",
    "anastrozole 1 mg daily": "anastrozole", "Femara 2.5 mg daily": "letrozole",
    "Keppra 500 mg bid": "levetiracetam", "Lamictal 100 mg bid": "lamotrigine",
    "topiramate 50 mg bid": "topiramate", "folic acid 1 mg daily": "folic-acid",
    "methotrexate 15 mg po weekly": "methotrexate", "lithium 300 mg tid": "lithium",
    "spironolactone 25 mg daily": "spironolactone", "Imitrex 50 mg daily prn": "sumatriptan",
    "Tegretol 200 mg bid": "carbamazepine", "Trileptal 300 mg bid": "oxcarbazepine",
}
"""Everyday lines as they arrive, each within its labeled limits."""


def codes(result: CheckResult, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]


@pytest.mark.parametrize(("line", "drug"), sorted(EVERYDAY.items()))
def test_an_everyday_line_is_read_checked_and_passes(line: str, drug: str) -> None:
    r = medref.check([line], ADULT)
    (item,) = r.items
    assert item.product == drug and item.status == "checked", item.to_dict()
    assert not [f for f in r.findings if f.severity != "info"], r.findings


def test_levothyroxine_has_no_labeled_maximum_but_a_dose_in_mg_warns() -> None:
    """No labeled maximum: 300 mcg/day or more is rare (a warning, not an error), which also
    catches mg written for mcg."""
    usual = medref.check(["Synthroid 88 mcg daily"], ADULT)
    assert usual.exit_code("warning") == 0 and not codes(usual, "MR004")
    (f,) = codes(medref.check(["Synthroid 88 mg daily"], ADULT), "MR102")
    assert f.severity == "warning" and "300 mcg/day" in f.message


@pytest.mark.parametrize(("line", "formulation", "maximum"), [
    ("Toprol XL 50 mg daily", "ER", 400), ("Toprol-XL 50 mg daily", "ER", 400),
    ("metoprolol 50 mg bid", "IR", 450), ("Glucotrol-XL 10 mg daily", "ER", 20),
    ("glipizide 10 mg bid", "IR", 40), ("Ditropan XL 10 mg daily", "ER", 30),
    ("metformin ER 500 mg daily", "ER", 2000), ("Wellbutrin XL 150 mg daily", "ER", 450),
])
def test_a_release_suffix_picks_the_formulation_maximum(line: str, formulation: str,
                                                        maximum: float) -> None:
    """``XL`` is extended-release like ``XR``; a suffix joined by a hyphen to a known name
    (``Toprol-XL``) reads the same as with a space."""
    (item,) = medref.check([line], ADULT).items
    assert item.formulation == formulation and item.daily_max == maximum, item.to_dict()


def test_an_unknown_name_with_a_release_suffix_stays_unknown() -> None:
    r = medref.check(["xyzzy-XL 10 mg daily"], ADULT)
    assert codes(r, "MR002") and r.items[0].status == "unknown"


def test_a_structured_item_named_with_a_suffix_reads_as_the_sig_line() -> None:
    line = medref.check(["Toprol-XL 50 mg daily"], ADULT)
    item = medref.check([{"name": "Toprol-XL", "dose": 50, "unit": "mg",
                          "frequency": "daily"}], ADULT)
    assert line.items[0].formulation == item.items[0].formulation == "ER"
    assert line.items[0].daily_max == item.items[0].daily_max == 400


@pytest.mark.parametrize(("line", "code", "severity"), [
    ("metformin ER 2500 mg daily", "MR102", "error"),
    ("metformin 1000 mg tid", "MR102", "error"),
    ("lisinopril 40 mg tid", "MR102", "warning"),  # 80 mg "used", not a stated maximum
    ("simvastatin 40 mg bid", "MR106", "info"),
    ("diphenhydramine 100 mg q6h", "MR101", "error"),
    ("cetirizine 10 mg bid", "MR102", "error"),
    ("bupropion 200 mg bid", "MR101", "warning"),  # IR assumed; within the XL single dose
    ("bupropion IR 200 mg bid", "MR101", "error"),
    ("bupropion SR 225 mg bid", "MR106", "info"),  # above SR's 400, within XL's 450
    ("metoprolol succinate 450 mg daily", "MR102", "error"),  # an ER product: 400 mg
])
def test_labeled_limits(line: str, code: str, severity: str) -> None:
    r = medref.check([line], ADULT)
    assert [f.severity for f in codes(r, code)] == [severity], r.findings


def test_renal_rules_read_egfr_and_ask_for_it() -> None:
    asked = medref.check(["metformin 500 mg bid"], Context(age=60))
    (need,) = codes(asked, "MR602")
    assert "metformin" in need.message and "crcl" in need.message.lower()
    low = medref.check(["metformin 500 mg bid"], Context(age=60, egfr=25))
    (f,) = codes(low, "MR601")
    assert f.severity == "error" and "eGFR" in f.message
    mid = medref.check(["metformin 500 mg bid"], Context(age=60, egfr=40))
    (g,) = codes(mid, "MR601")
    assert g.severity == "warning"
    assert not codes(medref.check(["metformin 500 mg bid"], Context(age=60, egfr=70)), "MR601")


class TestNsaidWithAceInhibitorArbOrDiuretic:
    """The labels: monitor blood pressure; in the elderly, volume-depleted (diuretics) or
    renally impaired, kidney function can worsen up to acute renal failure."""

    def test_alone_in_a_younger_adult_it_is_info(self) -> None:
        r = medref.check(["ibuprofen 400 mg tid", "losartan 50 mg daily"], ADULT)
        (f,) = codes(r, "MR303")
        assert f.severity == "info" and f.items == ("ibuprofen", "losartan")

    def test_age_65_or_a_diuretic_raises_it_to_a_warning(self) -> None:
        (older,) = codes(medref.check(["ibuprofen 400 mg tid", "losartan 50 mg daily"],
                                      OLDER), "MR303")
        assert older.severity == "warning" and "age 65 or over" in older.message
        (diuretic,) = codes(medref.check(["naproxen 500 mg bid", "lisinopril 10 mg daily",
                                          "furosemide 20 mg daily"], ADULT), "MR303")
        assert diuretic.severity == "warning"
        assert diuretic.items == ("furosemide", "lisinopril", "naproxen")
        assert "Same problem, also" in diuretic.message  # one kidney problem, one finding

    def test_without_an_age_the_age_is_asked_for(self) -> None:
        r = medref.check(["ibuprofen 400 mg tid", "lisinopril 10 mg daily"],
                         Context(crcl=90, weeks_since_surgery=40))
        (need,) = codes(r, "MR602")
        assert "age" in need.message and "interaction severity" in need.message

    def test_topical_diclofenac_is_not_a_systemic_nsaid(self) -> None:
        r = medref.check(["Voltaren gel 4 g qid", "lisinopril 10 mg daily"], OLDER)
        assert not codes(r, "MR303")


@pytest.mark.parametrize(("lines", "code", "severity", "items"), [
    (["levothyroxine 100 mcg daily", "Tums 500 mg bid"], "MR304", "warning",
     ("calcium-carbonate", "levothyroxine")),
    (["levothyroxine 100 mcg daily", "magnesium oxide 400 mg daily"], "MR304", "warning",
     ("levothyroxine", "magnesium-oxide")),
    (["levothyroxine 100 mcg daily", "omeprazole 20 mg daily"], "MR303", "info",
     ("levothyroxine", "omeprazole")),
    (["simvastatin 40 mg qhs", "amlodipine 10 mg daily"], "MR303", "error",
     ("amlodipine", "simvastatin")),  # above the labeled 20 mg cap (tests/test_dose_caps.py)
    (["tramadol 50 mg q6h prn", "bupropion SR 150 mg bid"], "MR303", "warning",
     ("bupropion", "tramadol")),
    (["hydrocodone 5 mg q6h prn", "hydroxyzine 25 mg tid"], "MR303", "warning",
     ("hydrocodone", "hydroxyzine")),
    (["HCTZ 25 mg daily", "vitamin D3 2000 IU daily"], "MR303", "info",
     ("hydrochlorothiazide", "vitamin-d3")),
])
def test_rules_with_the_fusion_drugs(lines: list[str], code: str, severity: str,
                                     items: tuple[str, ...]) -> None:
    found = [(f.severity, f.items) for f in codes(medref.check(lines, ADULT), code)]
    assert (severity, items) in found, found


def test_levothyroxine_is_not_spaced_from_calcium_citrate() -> None:
    """The label names calcium carbonate (a phosphate binder); calcium citrate is not named."""
    r = medref.check(["levothyroxine 100 mcg daily", "calcium citrate 630 mg bid"], ADULT)
    assert not codes(r, "MR304")


def test_beers_flags_at_65() -> None:
    for line in ("diphenhydramine 25 mg qhs", "hydroxyzine 25 mg tid", "oxybutynin 5 mg bid",
                 "Jardiance 10 mg daily"):
        older = medref.check([line], OLDER)
        younger = medref.check([line], ADULT)
        assert [f.severity for f in codes(older, "MR604")] == ["warning"], line
        assert not codes(younger, "MR604"), line


def test_bone_density_flags_are_info() -> None:
    for line, drug in (("pioglitazone 30 mg daily", "pioglitazone"),
                       ("canagliflozin 100 mg daily", "canagliflozin"),
                       ("levothyroxine 100 mcg daily", "levothyroxine")):
        (f,) = codes(medref.check([line], ADULT), "MR201")
        assert f.severity == "info" and f.items == (drug,)


def test_every_new_entry_has_sourced_limits_or_says_it_has_none() -> None:
    kb = load_reference().knowledge
    for eid in set(EVERYDAY.values()) | {"levothyroxine"}:
        e = kb.ingredients[eid]
        assert e.limits or not e.checkable, eid
        for lim in e.limits:
            assert lim.cited.cite, (eid, lim)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(EVERYDAY)), min_size=1, max_size=5),
       st.sampled_from([ADULT, OLDER, Context()]))
def test_everyday_regimens_give_the_same_answer_as_one_regimen_or_in_a_batch(
        lines: list[str], ctx: Context) -> None:
    """One answer through every door: the library's check and check_many agree."""
    one = medref.check(lines, ctx)
    (many,) = list(medref.check_many([lines], context=ctx))
    assert [f.to_dict() for f in one.findings] == [f.to_dict() for f in many.result.findings]


def test_a_fhir_order_named_with_a_suffix_reads_as_the_sig_line() -> None:
    """One answer through every door: a MedicationRequest for ``Toprol-XL`` (text only) is
    metoprolol ER, as the sig line is."""
    req = {"resourceType": "MedicationRequest", "id": "m1", "status": "active",
           "intent": "order", "subject": {"reference": "Patient/p1"},
           "medicationCodeableConcept": {"text": "Toprol-XL"},
           "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1,
                                                        "periodUnit": "d"}},
                                  "doseAndRate": [{"doseQuantity": {
                                      "value": 50, "unit": "mg",
                                      "system": "http://unitsofmeasure.org", "code": "mg"}}]}]}
    fhir = medref.check_fhir({"resourceType": "Bundle", "type": "collection",
                              "entry": [{"resource": req}]})
    (item,) = fhir.items
    assert item.product == "metoprolol" and item.formulation == "ER" and item.daily_max == 400


class TestPmProductsAndBloodPressureCombinations:
    """Sleep 'PM' products hide acetaminophen, ibuprofen or naproxen with diphenhydramine;
    lisinopril and losartan come with hydrochlorothiazide."""

    def test_tylenol_pm_counts_in_the_acetaminophen_total(self) -> None:
        r = medref.check(["Tylenol PM 2 caplets qhs", "Tylenol 1000 mg q6h"], ADULT)
        (f,) = codes(r, "MR301")
        assert f.severity == "error" and f.items == ("acetaminophen",)
        assert "5,000 mg/day" in f.message
        pm = r.items[0]
        assert pm.product == "tylenol-pm" and pm.strength == "500/25"
        assert {i.id: i.daily_total for i in pm.ingredients} == {
            "acetaminophen": 1000, "diphenhydramine": 50}

    def test_diphenhydramine_citrate_is_counted_as_the_hydrochloride(self) -> None:
        (item,) = medref.check(["Advil PM 2 caplets qhs"], ADULT).items
        assert {i.id: i.daily_total for i in item.ingredients} == {
            "ibuprofen": 400, "diphenhydramine": 50}

    def test_a_pm_product_carries_its_nsaid_and_its_beers_flag(self) -> None:
        r = medref.check(["Aleve PM 2 caplets qhs"], OLDER)
        assert {f.items for f in codes(r, "MR604")} == {("diphenhydramine",), ("naproxen",)}
        assert ("warning", ("naproxen",)) in [(f.severity, f.items) for f in codes(r, "MR201")]

    @pytest.mark.parametrize(("line", "product", "strength"), [
        ("Zestoretic 20/12.5 daily", "zestoretic", "20/12.5"),
        ("lisinopril/HCTZ 10/12.5 mg daily", "lisinopril-hydrochlorothiazide", "10/12.5"),
        ("Hyzaar 50/12.5 mg daily", "hyzaar", "50/12.5"),
        ("LOSARTAN POTASSIUM-HYDROCHLOROTHIAZIDE 100/25 1 tab daily",
         "losartan-hydrochlorothiazide", "100/25"),
    ])
    def test_a_two_digit_combination_strength_is_read(self, line: str, product: str,
                                                      strength: str) -> None:
        r = medref.check([line], ADULT)
        (item,) = r.items
        assert (item.product, item.strength, item.status) == (product, strength, "checked")
        assert not [f for f in r.findings if f.severity != "info"], r.findings

    @settings(max_examples=40, deadline=None)
    @given(data=st.data())
    def test_a_hyphenated_strength_reads_as_the_slash_one(self, data: st.DataObject) -> None:
        """Property: "Hyzaar 100-25" is "Hyzaar 100/25" (every strength of every product with
        two ingredients, any name or alias, any spacing around the hyphen)."""
        ref = load_reference()
        products = [p for p in ref.knowledge.products.values() if len(p.ingredients) == 2]
        product = data.draw(st.sampled_from(products))
        name = data.draw(st.sampled_from((product.name, *product.aliases)))
        strength = data.draw(st.sampled_from([s.label for s in product.strengths]))
        sep = data.draw(st.sampled_from(["-", " - ", "- "]))
        tail = data.draw(st.sampled_from(["1 tab daily", "mg 1 tab bid", "daily"]))
        slash = medref.check([f"{name} {strength} {tail}"], ADULT)
        hyphen = medref.check([f"{name} {strength.replace('/', sep)} {tail}"], ADULT)
        assert [(i.product, i.strength, i.status) for i in hyphen.items] == [
            (i.product, i.strength, i.status) for i in slash.items]
        assert [(f.code, f.severity) for f in hyphen.findings] == [
            (f.code, f.severity) for f in slash.findings]

    @pytest.mark.parametrize(("line", "strength", "unparsed"), [
        ("Zestoretic 20-12.5 1 tab daily", "20/12.5", ()),
        ("Hyzaar 100-25 mg daily", "100/25", ()),
        ("Zestoretic 20-25 1 tab daily", "20/25", ()),  # ascending, and a strength
        # later on the line a hyphen between two numbers is not a strength
        # (the strength then is the worst-case assumption for an unstated one, not 50/12.5)
        ("Hyzaar 1 tab daily 50-12.5", "100/25", ("50-12.5",)),
    ])
    def test_a_hyphenated_two_digit_strength_only_first(self, line: str, strength: str | None,
                                                        unparsed: tuple[str, ...]) -> None:
        (item,) = medref.check([line], ADULT).items
        assert (item.strength, item.unparsed) == (strength, unparsed)

    def test_a_single_drug_keeps_its_dose_range(self) -> None:
        (item,) = medref.check(["lisinopril 10-20 mg daily"], ADULT).items
        assert item.status == "checked" and item.daily_total == 20

    def test_a_fraction_is_still_not_a_strength(self) -> None:
        (item,) = medref.check(["Percocet 5/325 1/2 tab q6h"], ADULT).items
        assert item.strength == "5/325" and item.unparsed == ("1/2",)


def test_tums_is_read_by_its_calcium_carbonate_weight() -> None:
    """Tums 500 is 500 mg calcium carbonate, 200 mg elemental calcium (its label)."""
    (item,) = medref.check(["Tums 500 mg 2 tabs bid"], ADULT).items
    assert item.product == "calcium-carbonate" and item.daily_total == 800


@pytest.mark.parametrize(("lines", "problem_items"), [
    (["trazodone 50 mg qhs", "quetiapine 25 mg qhs"], ("quetiapine", "trazodone")),
    (["hydroxyzine 25 mg tid", "citalopram 20 mg daily"], ("citalopram", "hydroxyzine")),
])
def test_two_qt_prolonging_drugs_whose_labels_name_it(lines: list[str],
                                                      problem_items: tuple[str, ...]) -> None:
    found = [(f.severity, f.items) for f in codes(medref.check(lines, ADULT), "MR303")
             if "QT" in f.message]
    assert found == [("warning", problem_items)]


def test_bupropion_with_seizure_threshold_drugs_and_cns_count() -> None:
    r = medref.check(["bupropion XL 300 mg daily", "prednisone 20 mg daily"], ADULT)
    assert [(f.severity, f.items) for f in codes(r, "MR303")] == [
        ("warning", ("bupropion", "prednisone"))]
    # Beers counts TCAs, SSRIs and SNRIs: bupropion and trazodone are not in the CNS count
    quiet = medref.check(["oxycodone 5 mg q6h prn", "bupropion XL 150 mg daily",
                          "trazodone 50 mg qhs", "mirtazapine 15 mg qhs"], ADULT)
    assert not [f for f in codes(quiet, "MR303") if "CNS-active" in f.message]


def test_an_egfr_rule_says_when_a_crcl_stood_in() -> None:
    by_egfr = medref.check(["metformin 500 mg bid"], Context(age=60, egfr=25))
    (f,) = codes(by_egfr, "MR601")
    assert "eGFR below 30 mL/min/1.73 m2" in f.message and "used for" not in f.message
    by_crcl = medref.check(["metformin 500 mg bid"], Context(age=60, crcl=25))
    (g,) = codes(by_crcl, "MR601")
    assert "CrCl 25 used for eGFR" in g.message and g.severity == "error"


def test_two_anticholinergics_are_one_burden_finding() -> None:
    r = medref.check(["diphenhydramine 25 mg qhs", "oxybutynin 5 mg bid",
                      "orphenadrine ER 100 mg bid"], ADULT)
    (f,) = [f for f in codes(r, "MR303") if "Two anticholinergic drugs" in f.message]
    assert f.severity == "warning"
    assert f.items == ("diphenhydramine", "orphenadrine", "oxybutynin")
    # pairs among the older entries keep their own rules (no new finding)
    old = medref.check(["cyclobenzaprine 10 mg tid", "amitriptyline 25 mg qhs"], ADULT)
    assert not [f for f in codes(old, "MR303") if "Two anticholinergic drugs" in f.message]


@pytest.mark.parametrize(("lines", "title"), [
    (["atenolol 50 mg daily", "carvedilol 12.5 mg bid"], "Two or more beta-blockers"),
    (["atorvastatin 40 mg daily", "pravastatin 40 mg daily"], "Two or more statins"),
    (["diltiazem 60 mg qid", "amlodipine 5 mg daily"], "Two or more calcium-channel blockers"),
    (["lisinopril 10 mg daily", "losartan 50 mg daily"], "An ACE inhibitor with an ARB"),
])
def test_two_drugs_of_one_class_are_named(lines: list[str], title: str) -> None:
    (f,) = [f for f in codes(medref.check(lines, ADULT), "MR302") if f.message.startswith(title)]
    assert f.severity == "warning" and "not verified" in (f.source or "")


def test_simvastatin_with_diltiazem_says_the_10_mg_limit() -> None:
    r = medref.check(["simvastatin 20 mg daily", "Cardizem CD 240 mg daily"], ADULT)
    (f,) = [f for f in codes(r, "MR303") if "simvastatin" in f.items]
    assert f.severity == "error" and "above the cap of 10 mg a day with diltiazem" in f.message


def test_recognised_without_a_limit_is_quiet_info() -> None:
    """Amiodarone (a loading schedule, no single maximum), vitamin B12 (no upper level) and
    melatonin (no regulatory maximum) are known: one MR004 info each, exit 0."""
    r = medref.check(["amiodarone 200 mg daily", "vitamin B12 1000 mcg daily",
                      "melatonin 3 mg qhs"], ADULT)
    assert sorted(f.items for f in codes(r, "MR004")) == [
        ("amiodarone",), ("melatonin",), ("vitamin-b12",)]
    assert r.exit_code("warning") == 0 and not codes(r, "MR002")


def test_aromatase_inhibitors_carry_a_bone_density_flag_and_amiodarone_a_qt_rule() -> None:
    (f,) = codes(medref.check(["letrozole 2.5 mg daily"], ADULT), "MR201")
    assert f.severity == "info" and "bone mineral density" in f.message
    qt = medref.check(["methadone 10 mg q8h", "amiodarone 200 mg daily"],
                      Context(age=50, opioid_tolerant=True))
    assert [f.items for f in codes(qt, "MR303") if "QT" in f.message] == [
        ("amiodarone", "methadone")]


@pytest.mark.parametrize(("lines", "items"), [
    (["methotrexate 15 mg po weekly", "naproxen 500 mg bid"], ("methotrexate", "naproxen")),
    (["methotrexate 15 mg po weekly", "aspirin 325 mg daily"], ("aspirin", "methotrexate")),
    (["lithium 300 mg tid", "meloxicam 15 mg daily"], ("lithium", "meloxicam")),
    (["lithium 300 mg tid", "losartan 50 mg daily"], ("lithium", "losartan")),
    (["spironolactone 25 mg daily", "lisinopril 10 mg daily"], ("lisinopril", "spironolactone")),
    (["sumatriptan 50 mg daily prn", "sertraline 50 mg daily"], ("sertraline", "sumatriptan")),
    (["tramadol 50 mg q6h", "carbamazepine 200 mg bid"], ("carbamazepine", "tramadol")),
])
def test_serious_interactions_of_the_second_round(lines: list[str],
                                                  items: tuple[str, ...]) -> None:
    found = [(f.severity, f.items) for f in codes(medref.check(lines, ADULT), "MR303")]
    assert ("warning", items) in found, found


def test_methotrexate_is_checked_by_the_week() -> None:
    r = medref.check(["methotrexate 7.5 mg po daily"], ADULT)  # 52.5 mg a week
    assert [f.severity for f in codes(r, "MR102")] == ["warning"]
    assert "week" in codes(r, "MR102")[0].message


@pytest.mark.parametrize(("line", "flagged"), [
    ("methotrexate 2.5 mg po daily", True),  # the classic fatal slip: daily, not weekly
    ("methotrexate 15 mg po weekly", False),
    ("methotrexate 2.5 mg po q12h x 3 doses weekly", False),
])
def test_methotrexate_more_often_than_weekly_is_flagged(line: str, flagged: bool) -> None:
    found = codes(medref.check([line], ADULT), "MR103")
    assert bool(found) == flagged, found
    if flagged:
        assert found[0].severity == "warning" and "a week" in found[0].message


def test_a_blood_pressure_after_a_two_digit_strength_is_not_a_second_strength() -> None:
    r = medref.check(["Zestoretic 20/12.5 daily, hold if BP < 90/60"], ADULT)
    assert not codes(r, "MR001") and r.items[0].strength == "20/12.5"
    assert codes(r, "MR007")  # the hold parameter is shown as not understood


@pytest.mark.parametrize(("lines", "title"), [
    (["losartan 50 mg daily", "valsartan 160 mg daily"], "Two or more ARBs"),
    (["lisinopril 10 mg daily", "enalapril 10 mg bid"], "Two or more ACE inhibitors"),
])
def test_two_arbs_or_two_ace_inhibitors(lines: list[str], title: str) -> None:
    assert [f.severity for f in codes(medref.check(lines, ADULT), "MR302")
            if f.message.startswith(title)] == ["warning"]


def test_diltiazem_with_a_beta_blocker() -> None:
    r = medref.check(["diltiazem 60 mg qid", "metoprolol tartrate 25 mg bid"], ADULT)
    assert [(f.severity, f.items) for f in codes(r, "MR303")] == [
        ("warning", ("diltiazem", "metoprolol"))]


def test_amiodarone_with_warfarin() -> None:
    r = medref.check(["amiodarone 200 mg daily", "warfarin 5 mg daily"], ADULT)
    (f,) = [f for f in codes(r, "MR303") if "amiodarone" in f.items]
    assert f.severity == "warning" and f.items == ("amiodarone", "warfarin")
    assert "INR" in f.message
