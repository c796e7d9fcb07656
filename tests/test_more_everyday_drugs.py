"""Everyday drugs, third round (eleventh session): diabetes (glimepiride, sitagliptin,
dapagliflozin), lipids (fenofibrate), heart (hydralazine, isosorbide mononitrate, digoxin),
prostate (finasteride), breast cancer (tamoxifen), rheumatology (hydroxychloroquine), and the
rules that matter with them. Each number is label text or a page quoting it
(``data/sources.json``); where a quote gives a usual dose, not a maximum, the limit is a
warning."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import medref
from medref.result import CheckResult, Context, Finding

ADULT = Context(age=50, crcl=90, hepatic_impairment=False, weeks_since_surgery=40)
OLDER = Context(age=72, crcl=90, hepatic_impairment=False, weeks_since_surgery=40)

LINES = {
    "glimepiride 2 mg daily": "glimepiride", "Amaryl 4 mg qam": "glimepiride",
    "sitagliptin 100 mg daily": "sitagliptin", "Januvia 100 mg daily": "sitagliptin",
    "dapagliflozin 10 mg daily": "dapagliflozin", "Farxiga 5 mg daily": "dapagliflozin",
    "fenofibrate 145 mg daily": "fenofibrate", "Tricor 145 mg daily": "fenofibrate",
    "hydralazine 25 mg qid": "hydralazine", "Imdur 60 mg daily": "isosorbide-mononitrate",
    "isosorbide mononitrate ER 30 mg daily": "isosorbide-mononitrate",
    "digoxin 0.125 mg daily": "digoxin", "Lanoxin 125 mcg daily": "digoxin",
    "finasteride 5 mg daily": "finasteride", "Proscar 5 mg daily": "finasteride",
    "tamoxifen 20 mg daily": "tamoxifen", "Plaquenil 200 mg bid": "hydroxychloroquine",
}


def codes(r: CheckResult, code: str) -> list[Finding]:
    return [f for f in r.findings if f.code == code]


@pytest.mark.parametrize(("line", "code", "severity", "says"), [
    ("glimepiride 8 mg bid", "MR102", "error", "8 mg/day"),  # "maximum recommended 8 mg"
    ("sitagliptin 100 mg bid", "MR102", "warning", "100 mg/day"),  # a usual dose: warning
    ("hydralazine 100 mg qid", "MR102", "warning", "300 mg"),
    ("Imdur 120 mg tid", "MR102", "warning", "240 mg"),
    ("isosorbide mononitrate IR 40 mg bid", "MR101", "warning", "20 mg"),
    ("finasteride 5 mg bid", "MR102", "warning", "5 mg/day"),
    ("tamoxifen 40 mg bid", "MR102", "warning", "40 mg/day"),
    ("hydroxychloroquine 400 mg bid", "MR102", "warning", "600 mg/day"),
    ("fenofibrate 145 mg bid", "MR102", "warning", "200 mg/day"),
])
def test_above_the_label(line: str, code: str, severity: str, says: str) -> None:
    found = codes(medref.check([line], ADULT), code)
    assert [f.severity for f in found] == [severity], found
    assert says in found[0].message


def test_sitagliptin_follows_the_egfr_band() -> None:
    band = {90: None, 40: "50 mg/day", 20: "25 mg/day"}
    for egfr, cap in band.items():
        r = medref.check(["sitagliptin 100 mg daily"], Context(age=60, egfr=egfr))
        found = codes(r, "MR107")
        if cap is None:
            assert not found, egfr
        else:
            (f,) = found
            assert f.severity == "warning" and cap in f.message, (egfr, f.message)


def test_dapagliflozin_at_low_egfr_is_info_and_a_beers_flag_at_65() -> None:
    r = medref.check(["Farxiga 10 mg daily"], Context(age=72, egfr=20))
    assert [f.severity for f in codes(r, "MR601")] == ["info"]
    assert [f.severity for f in codes(r, "MR604")] == ["warning"]
    assert not codes(medref.check(["Farxiga 10 mg daily"], ADULT), "MR604")


def test_digoxin_above_the_beers_dose_in_older_adults() -> None:
    older = medref.check(["digoxin 0.25 mg daily"], OLDER)
    (f,) = codes(older, "MR107")
    assert f.severity == "warning" and "0.125 mg/day" in f.message and "Beers" in f.message
    assert not codes(medref.check(["digoxin 0.25 mg daily"], ADULT), "MR107")
    assert not codes(medref.check(["digoxin 125 mcg daily"], OLDER), "MR107")


@pytest.mark.parametrize("partner", ["amiodarone 200 mg daily", "verapamil 80 mg tid",
                                     "spironolactone 25 mg daily", "alprazolam 0.5 mg tid"])
def test_digoxin_with_a_drug_that_raises_its_level(partner: str) -> None:
    r = medref.check(["digoxin 0.125 mg daily", partner], ADULT)
    (f,) = [f for f in codes(r, "MR303") if f.rule == "digoxin-with-level-raising-drugs"]
    assert f.severity == "warning" and "digoxin" in f.items


@pytest.mark.parametrize("partner", ["methadone 10 mg tid", "trazodone 50 mg qhs"])
def test_hydroxychloroquine_is_qt_prolonging(partner: str) -> None:
    r = medref.check(["hydroxychloroquine 200 mg bid", partner],
                     Context(age=50, opioid_tolerant=True))
    assert [f.severity for f in codes(r, "MR303") if "QT" in f.message] == ["warning"]


def test_isosorbide_mononitrate_defaults_to_extended_release() -> None:
    (item,) = medref.check(["isosorbide mononitrate 60 mg daily"], ADULT).items
    assert item.formulation == "ER"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(sorted(LINES)), min_size=1, max_size=5),
       st.sampled_from([ADULT, OLDER, Context(age=70, egfr=35)]))
def test_check_and_check_many_agree(lines: list[str], ctx: Context) -> None:
    one = medref.check(lines, ctx)
    (many,) = list(medref.check_many([lines], context=ctx))
    assert many.result is not None
    assert [f.to_dict() for f in one.findings] == [f.to_dict() for f in many.result.findings]


@pytest.mark.parametrize(("line", "ctx", "cap"), [
    ("atenolol 100 mg daily", Context(age=60, crcl=10), "25 mg/day"),
    ("atenolol 100 mg daily", Context(age=60, crcl=30), "50 mg/day"),
    ("sitagliptin 100 mg daily", Context(age=60, egfr=20), "25 mg/day"),
])
def test_nested_renal_bands_give_one_finding(line: str, ctx: Context, cap: str) -> None:
    """CrCl below 35 (50 mg) and below 15 (25 mg) both hold at CrCl 10: the binding band is
    the finding (one problem, one finding; two MR107 before)."""
    (f,) = codes(medref.check([line], ctx), "MR107")
    assert cap in f.message


class TestNifedipineByRelease:
    """Procardia is the immediate-release capsule (10, 20 mg), Procardia XL the extended-release
    tablet; "Procardia" was read as extended-release before."""

    def test_procardia_is_immediate_release_with_its_own_limit(self) -> None:
        (item,) = medref.check(["Procardia 10 mg tid"], ADULT).items
        assert (item.product, item.formulation) == ("nifedipine", "IR")
        (f,) = codes(medref.check(["Procardia 20 mg q2h"], ADULT), "MR102")
        assert f.severity == "error" and "180 mg/day" in f.message
        assert not codes(medref.check(["Procardia 20 mg q3h"], ADULT), "MR102")

    def test_procardia_xl_and_a_bare_name_are_extended_release(self) -> None:
        for line in ("Procardia XL 60 mg daily", "nifedipine 30 mg daily"):
            (item,) = medref.check([line], OLDER).items
            assert item.formulation == "ER", line
            assert not codes(medref.check([line], OLDER), "MR604"), line

    def test_immediate_release_is_a_beers_flag(self) -> None:
        (f,) = codes(medref.check(["Procardia 10 mg tid"], OLDER), "MR604")
        assert "Beers Criteria 2023: avoid" in f.message and "IR" in f.message


def test_a_beers_row_of_2019_is_not_called_2023() -> None:
    (f,) = codes(medref.check(["carbamazepine 200 mg bid"], OLDER), "MR604")
    assert "AGS Beers Criteria: caution" in f.message and "2019" in f.message


def test_spironolactone_beers_needs_the_low_crcl() -> None:
    low = medref.check(["spironolactone 25 mg daily"], Context(age=72, crcl=25))
    assert [f.severity for f in codes(low, "MR604")] == ["warning"]
    assert not codes(medref.check(["spironolactone 25 mg daily"], Context(age=72, crcl=60)),
                     "MR604")


@pytest.mark.parametrize(("line", "code", "severity"), [
    ("sumatriptan 6 mg sc q1h prn, max 3 injections a day", "MR102", "error"),  # 18 > 12 mg
    ("sumatriptan 8 mg sc once", "MR101", "error"),                             # 6 mg a dose
    ("sumatriptan 20 mg intranasal, may repeat in 2 h, max 60 mg/day", "MR102", "error"),
    ("sumatriptan 25 mg intranasal once", "MR101", "warning"),                  # 20 mg a dose
])
def test_sumatriptan_injection_and_nasal_limits(line: str, code: str, severity: str) -> None:
    found = codes(medref.check([line], ADULT), code)
    assert [f.severity for f in found] == [severity], (line, medref.check([line], ADULT).findings)


def test_sumatriptan_injection_within_its_limits() -> None:
    r = medref.check(["sumatriptan 6 mg sc, may repeat once after 1 hour"], ADULT)
    assert not [f for f in r.findings if f.severity != "info"], r.findings


ANTIBIOTICS = {
    "amoxicillin 875 mg bid": "amoxicillin", "Amoxil 500 mg tid": "amoxicillin",
    "azithromycin 250 mg daily": "azithromycin", "Keflex 500 mg qid": "cephalexin",
    "doxycycline hyclate 100 mg bid": "doxycycline", "Flagyl 500 mg tid": "metronidazole",
    "Macrobid 100 mg bid": "nitrofurantoin", "Estrace 1 mg daily": "estradiol",
    "vitamin D2 1000 IU daily": "ergocalciferol",
}


@pytest.mark.parametrize(("line", "code", "severity"), [
    ("metronidazole 1500 mg tid", "MR102", "error"),    # 4 g in 24 h "should not be exceeded"
    ("cephalexin 1000 mg q4h", "MR102", "warning"),      # 6 g against 4 g (secondary sources)
    ("amoxicillin 1000 mg qid", "MR102", "warning"),     # the largest labeled regimen is 3 g
    ("doxycycline 200 mg qid", "MR102", "warning"),
])
def test_antibiotic_limits(line: str, code: str, severity: str) -> None:
    assert [f.severity for f in codes(medref.check([line], ADULT), code)] == [severity]


def test_amoxicillin_renal_bands_one_finding() -> None:
    (f,) = codes(medref.check(["amoxicillin 875 mg bid"], Context(age=60, crcl=5)), "MR107")
    assert "500 mg/day" in f.message


@pytest.mark.parametrize(("partner", "severity"), [("metronidazole 500 mg tid", "warning"),
                                                   ("azithromycin 250 mg daily", "info")])
def test_antibiotics_with_warfarin(partner: str, severity: str) -> None:
    r = medref.check(["warfarin 5 mg daily", partner], ADULT)
    assert [f.severity for f in codes(r, "MR303")] == [severity]


def test_azithromycin_is_qt_prolonging() -> None:
    r = medref.check(["azithromycin 250 mg daily", "methadone 10 mg tid"],
                     Context(age=50, opioid_tolerant=True))
    assert [f.items for f in codes(r, "MR303") if "QT" in f.message] == [
        ("azithromycin", "methadone")]


def test_vitamin_d2_and_d3_are_summed_against_one_upper_level() -> None:
    r = medref.check(["vitamin D2 2000 IU daily", "vitamin D3 2500 IU daily"], ADULT)
    (f,) = codes(r, "MR402")
    assert f.items == ("ergocalciferol", "vitamin-d3") and f.message.startswith("Vitamin D: ")
    assert "4,500 IU/day from 2 sources" in f.message and "elemental" not in f.message
    assert not codes(medref.check(["vitamin D2 1000 IU daily", "vitamin D3 2000 IU daily"],
                                  ADULT), "MR402")


def test_a_z_pak_sig_is_read() -> None:
    (item,) = medref.check(["Z-Pak 500 mg day 1 then 250 mg daily x 4 days"], ADULT).items
    assert item.status == "checked" and item.unparsed == () and item.daily_total == 500


class TestAmoxicillinClavulanate:
    """Augmentin's tablets hold 125 mg of clavulanate whatever their amoxicillin (250, 500,
    875 mg): two 250 mg tablets are not one 500 mg tablet (the label)."""

    @pytest.mark.parametrize("line", ["Augmentin 875 mg bid", "amox-clav 500/125 tid",
                                      "amoxicillin-clavulanate 875/125 1 tab bid"])
    def test_read_with_both_ingredients(self, line: str) -> None:
        r = medref.check([line], ADULT)
        (item,) = r.items
        assert {i.id for i in item.ingredients} == {"amoxicillin", "clavulanate"}
        assert not [f for f in r.findings if f.severity != "info"], r.findings

    def test_two_250_mg_tablets_double_the_clavulanate(self) -> None:
        r = medref.check(["Augmentin 250 mg 2 tabs tid"], ADULT)
        (f,) = codes(r, "MR101")
        assert f.severity == "warning" and f.items == ("clavulanate",)
        assert "two 250 mg tablets are not one 500 mg tablet" in f.message

    def test_a_fhir_suspension_is_read_by_its_ingredients(self) -> None:
        doc = {"resourceType": "MedicationRequest", "status": "draft", "intent": "order",
               "medicationCodeableConcept": {"text": "Amoxicillin 120 MG/ML / clavulanate "
                                                     "potassium 8.58 MG/ML Oral Suspension"},
               "dosageInstruction": [{"text": "5 mL bid x 10 days", "timing": {
                   "repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                   "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mL"}}]}]}
        r = medref.check_fhir(doc, context=ADULT)
        (item,) = r.items
        assert {i.id: i.dose for i in item.ingredients} == {"amoxicillin": 600.0,
                                                            "clavulanate": 42.9}


# -- from the session's review -------------------------------------------------------------

@pytest.mark.parametrize(("line", "code"), [("sumatriptan 12 mg injection once", "MR101"),
                                            ("sumatriptan 6 mg inj q1h prn", "MR102"),
                                            ("Imitrex 6 mg autoinjector q2h prn", "MR102")])
def test_an_injection_line_is_checked_by_the_injection_limits(line: str, code: str) -> None:
    """"injection", "inj", "autoinjector" without a route: the drug's one injectable route
    (sumatriptan: subcutaneous), not the oral default."""
    r = medref.check([line], ADULT)
    assert r.items[0].route == "sc"
    assert [f.severity for f in codes(r, code)] == ["error"]


@pytest.mark.parametrize("line", ["estradiol 0.1 mg patch twice a week"])
def test_a_patch_line_is_not_checked_against_the_oral_limits(line: str) -> None:
    """A patch without a route: the drug's one route through the skin (estradiol:
    transdermal), whose limits (none on file) apply, not the tablets' 30 mg a day."""
    r = medref.check([line], ADULT)
    item = r.items[0]
    assert item.route == "transdermal" and item.percent_of_max is None
    assert [f.severity for f in codes(r, "MR004")] == ["info"]


def test_a_patch_strength_in_mg_with_a_count_of_patches_is_not_read() -> None:
    """"0.05 mg patch: apply 1 patch twice weekly" is a delivery rate per day, not 0.05 mg a
    week: shown unread (MR001), never checked at a seventh of the real amount (the review)."""
    r = medref.check(["estradiol 0.05 mg patch apply 1 patch twice weekly"], ADULT)
    assert r.items[0].status == "unparseable" and codes(r, "MR001")


def test_may_repeat_without_a_count_is_a_warning_not_an_error() -> None:
    (f,) = codes(medref.check(["sumatriptan 50 mg at onset, may repeat in 2 h"], ADULT),
                 "MR102")
    assert f.severity == "warning" and "does not say how many repeats" in f.message
    capped = medref.check(["sumatriptan 50 mg at onset, may repeat in 2 h, max 200 mg/day"],
                          ADULT)
    assert not codes(capped, "MR102")


@pytest.mark.parametrize("line", [
    "azithromycin 500 mg po once on day 1, then 250 mg po once daily on days 2-5",
    "doxycycline 100 mg bid on the first day then 100 mg daily"])
def test_label_style_first_day_sigs_are_read(line: str) -> None:
    (item,) = medref.check([line], ADULT).items
    assert item.status == "checked" and item.unparsed == (), item


@pytest.mark.parametrize(("line", "flagged"), [("nifedipine 10 mg tid", True),
                                               ("nifedipine 10 mg q8h prn", True),
                                               ("nifedipine 30 mg daily", False)])
def test_nifedipine_three_times_a_day_is_immediate_release(line: str, flagged: bool) -> None:
    r = medref.check([line], OLDER)
    assert r.items[0].formulation == ("IR" if flagged else "ER")
    assert bool(codes(r, "MR604")) == flagged


@pytest.mark.parametrize(("crcl", "severity"), [(90, None), (45, "warning"), (25, "error")])
def test_nitrofurantoin_by_kidney_function(crcl: int, severity: str | None) -> None:
    found = codes(medref.check(["Macrobid 100 mg bid"], Context(age=50, crcl=crcl)), "MR601")
    assert [f.severity for f in found] == ([] if severity is None else [severity])


def test_fenofibrate_in_severe_renal_impairment() -> None:
    (f,) = codes(medref.check(["fenofibrate 145 mg daily"], Context(age=60, crcl=20)), "MR601")
    assert f.severity == "warning"


@pytest.mark.parametrize(("lines", "rule"), [
    (["digoxin 0.125 mg daily", "indomethacin 25 mg tid"], "digoxin-with-level-raising-drugs"),
    (["azithromycin 250 mg daily", "amiodarone 200 mg daily"],
     "azithromycin-with-class-iii-antiarrhythmic")])
def test_partners_the_sources_name(lines: list[str], rule: str) -> None:
    assert [f.severity for f in codes(medref.check(lines, ADULT), "MR303") if f.rule == rule] == [
        "warning"]


PSYCH = {"buspirone 15 mg bid": "buspirone", "Abilify 10 mg daily": "aripiprazole",
         "risperidone 2 mg bid": "risperidone", "Aricept 10 mg qhs": "donepezil",
         "Namenda 10 mg bid": "memantine", "Namenda XR 28 mg daily": "memantine",
         "Depakote 500 mg bid": "divalproex", "Xyzal 5 mg qhs": "levocetirizine",
         "Allegra 180 mg daily": "fexofenadine"}


@pytest.mark.parametrize(("line", "code", "severity"), [
    ("buspirone 30 mg tid", "MR102", "error"),       # "should not exceed 60 mg per day"
    ("Namenda XR 28 mg bid", "MR102", "error"),      # XR: "the maximum ... 28 mg once daily"
    ("Namenda 10 mg tid", "MR102", "warning"),       # IR: a target dose, not a maximum
    ("Aricept 23 mg bid", "MR102", "error"),
    ("risperidone 10 mg bid", "MR102", "warning"),
    ("Depakote 1500 mg tid", "MR109", "warning"),    # 60 mg/kg/day at 70 kg
])
def test_psych_limits(line: str, code: str, severity: str) -> None:
    r = medref.check([line], Context(age=50, crcl=90, hepatic_impairment=False, weight=70))
    assert [f.severity for f in codes(r, code)] == [severity], r.findings


def test_levocetirizine_renal_bands_and_contraindication() -> None:
    (f,) = codes(medref.check(["Xyzal 5 mg qhs"], Context(age=60, crcl=40)), "MR107")
    assert "1.25 mg/day" in f.message
    assert [g.severity for g in codes(medref.check(["Xyzal 2.5 mg qhs"],
                                                   Context(age=60, crcl=8)), "MR601")] == [
        "error"]


def test_valproate_in_hepatic_impairment_is_contraindicated() -> None:
    r = medref.check(["Depakote 250 mg bid"], Context(age=50, hepatic_impairment=True))
    assert [f.severity for f in codes(r, "MR601")] == ["error"]


def test_no_daily_maximum_says_which_other_maxima_are_checked() -> None:
    """MR004 beside a per-kg or an age maximum no longer reads as if nothing were checked."""
    dig = codes(medref.check(["digoxin 0.125 mg daily"], OLDER), "MR004")[0].message
    assert "for every patient" in dig and "age, kidney function" in dig
    vpa = codes(medref.check(["Depakote 500 mg bid"], ADULT), "MR004")[0].message
    assert "per kg" in vpa
    plain = codes(medref.check(["prednisone 10 mg daily"], ADULT), "MR004")[0].message
    assert "for every patient" not in plain


RECOGNISED = {**LINES, **ANTIBIOTICS, **PSYCH}
"""Every everyday line of this round, as it arrives, each within its labeled limits."""


@pytest.mark.parametrize(("line", "eid"), sorted(RECOGNISED.items()))
def test_recognised_read_and_within_their_limits(line: str, eid: str) -> None:
    """(A weight: valproate's per-kg maximum is checked, not asked for.)"""
    r = medref.check([line], Context(age=50, crcl=90, hepatic_impairment=False,
                                     weeks_since_surgery=40, weight=70))
    (item,) = r.items
    assert (item.product, item.status) == (eid, "checked"), item
    assert not [f for f in r.findings if f.severity != "info"], r.findings
