""""Did you mean": real misspellings find their drug first; unrelated names get none."""

from __future__ import annotations

import pytest

from medref import check
from medref.reference import load_reference

REF = load_reference()

MISSPELLINGS = {
    "ibuprofin": "ibuprofen", "ibuprophen": "ibuprofen", "acetominophen": "acetaminophen",
    "acetaminophin": "acetaminophen", "tylenal": "acetaminophen", "gabapentine": "gabapentin",
    "gabapenton": "gabapentin", "neurotin": "gabapentin", "lyrika": "pregabalin",
    "pregablin": "pregabalin", "cymbalt": "duloxetine", "duloxitine": "duloxetine",
    "amitriptylin": "amitriptyline", "amitryptiline": "amitriptyline",
    "cyclobenzeprine": "cyclobenzaprine", "flexaril": "cyclobenzaprine",
    "tizanadine": "tizanidine", "morphene": "morphine", "oxycodon": "oxycodone",
    "hydromorphine": "hydromorphone", "dilaudud": "hydromorphone", "tramadal": "tramadol",
    "methocarbomol": "methocarbamol", "robaxen": "methocarbamol", "ketorolak": "ketorolac",
    "toradal": "ketorolac", "clonodine": "clonidine", "fluoxitine": "fluoxetine",
    "prozak": "fluoxetine", "capsacin": "capsaicin", "lidocain": "lidocaine",
    "alendronat": "alendronate", "zolendronic acid": "zoledronic-acid",
    "teriparitide": "teriparatide", "abaloparitide": "abaloparatide",
    "romosozumb": "romosozumab", "naproxin": "naproxen", "celebrx": "celecoxib",
    "celecoxeb": "celecoxib", "predisone": "prednisone", "ciprofloxacine": "ciprofloxacin",
    "omeprazol": "omeprazole", "pantoprazol": "pantoprazole",
    "calcium citrat": "calcium-citrate", "magnesium glycinat": "magnesium-glycinate",
    "advill": "ibuprofen", "moltrin": "ibuprofen", "aleeve": "naproxen",
    "lisinipril": "lisinopril", "metformine": "metformin", "atorvastatine": "atorvastatin",
    "levothyroxin": "levothyroxine", "amlodepine": "amlodipine", "trazadone": "trazodone",
    "seroquil": "quetiapine", "hydroxizine": "hydroxyzine",
}
"""Misspellings and brand-name typos with the drug their first suggestion must name."""

NO_CLOSE_MATCH = ["xyzzy", "asdf", "ezetimibe", "ranolazine", "nateglinide",
                  "rizatriptan", "latanoprost", "telmisartan", "nadolol", "zzz"]
"""Names of drugs medref does not know (or no drug): nothing is suggested."""


@pytest.mark.parametrize(("typed", "drug"), sorted(MISSPELLINGS.items()))
def test_a_misspelling_suggests_its_drug_first(typed: str, drug: str) -> None:
    first = REF.suggest(typed)[0]
    assert first == drug or first.endswith(f"({drug})"), REF.suggest(typed)


@pytest.mark.parametrize("typed", NO_CLOSE_MATCH)
def test_an_unrelated_name_gets_no_suggestion(typed: str) -> None:
    assert REF.suggest(typed) == ()


def test_the_finding_says_no_close_match_or_the_suggestions() -> None:
    msgs = {f.lines[0]: f.message for f in check(["ezetimibe 10 mg daily", "ibuprofin 400 mg"])
            .findings if f.code == "MR002"}
    assert "no close match" in msgs[0]
    assert "did you mean ibuprofen" in msgs[1]


def test_suggestions_are_distinct_drugs_at_most_three() -> None:
    for typed in list(MISSPELLINGS)[:20]:
        got = REF.suggest(typed)
        ids = [s.rsplit("(", 1)[-1].rstrip(")") for s in got]
        assert len(got) <= 3 and len(set(ids)) == len(ids)
