"""FHIR R4 input and output: MedicationRequest/Statement, Bundles, CDS Hooks requests,
DetectedIssue Bundles validated against HL7's R4 JSON Schema, and every door agreeing."""

from __future__ import annotations

import copy
import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import medref
from medref.cli import cli
from medref.readers.fhir import fhir_record, parse_rxnorm_name

EXT = Path(__file__).resolve().parents[2] / "shared" / "research" / "external"
MME = EXT / "cqf-opioid-mme-r4" / "mme-calculator-tests"
EXAMPLES = EXT / "cqf-opioid-mme-r4" / "examples"
HOOKS = EXT / "cds-hooks"
SCHEMA = EXT / "hl7-fhir-r4-schema" / "fhir.schema.json"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"

needs_shared = pytest.mark.skipif(not EXT.is_dir(), reason="../shared material not beside "
                                  "the repository")


def _run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def _json(*args: str) -> dict[str, Any]:
    code, out, err = _run(*args, "--format", "json")
    assert code in (0, 1), err
    doc: dict[str, Any] = json.loads(out)
    return doc


def _key(doc: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...], tuple[int, ...]]]:
    return [(f["code"], f["severity"], tuple(f["items"]), tuple(f["lines"]))
            for f in doc["findings"]]


def mr(rid: str, med: dict[str, Any], dosage: dict[str, Any] | None,
       status: str = "active", **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "MedicationRequest", "id": rid, "status": status,
                           "intent": "order", "subject": {"reference": "Patient/p1"}, **med}
    if dosage is not None:
        res["dosageInstruction"] = [dosage]
    res.update(extra)
    return res


def coded(code: str, display: str | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"system": RX, "code": code}
    if display:
        c["display"] = display
    return {"medicationCodeableConcept": {"coding": [c]}}


def text(name: str) -> dict[str, Any]:
    return {"medicationCodeableConcept": {"text": name}}


def dose(value: float, unit: str, code: str | None = None, *, every_h: float | None = None,
         per_day: int | None = None, prn: bool = False) -> dict[str, Any]:
    repeat: dict[str, Any] = {}
    if every_h is not None:
        repeat = {"frequency": 1, "period": every_h, "periodUnit": "h"}
    elif per_day is not None:
        repeat = {"frequency": per_day, "period": 1, "periodUnit": "d"}
    return {"timing": {"repeat": repeat}, "asNeededBoolean": prn,
            "doseAndRate": [{"doseQuantity": {"value": value, "unit": unit, "system": UCUM,
                                              "code": code or unit}}]}


def bundle(*resources: dict[str, Any], btype: str | None = "collection") -> dict[str, Any]:
    b: dict[str, Any] = {"resourceType": "Bundle",
                         "entry": [{"resource": r} for r in resources]}
    if btype:
        b["type"] = btype
    return b


def write(tmp: Path, doc: Any, name: str = "in.json") -> str:
    p = tmp / name
    p.write_text(json.dumps(doc), encoding="utf-8")
    return str(p)


# -- acceptance: the CDC MME calculator tests ---------------------------------------------

@needs_shared
@pytest.mark.parametrize(("path", "mme"), [
    ("patient-mme-greater-than-fifty/example-rec-05-mme-greater-than-fifty-context.json", 180),
    ("patient-mme-less-than-fifty/example-rec-05-mme-less-than-fifty-context.json", 30),
    ("patient-mme-with-timeofday/example-rec-05-mme-with-timeofday-context.json", 30),
    ("mmecalc/morphineMedRecMMECalc.json", 20),
])
def test_cdc_mme_calculator_requests(path: str, mme: float) -> None:
    doc = _json("check", "-f", str(MME / path))
    assert doc["summary"]["mme_per_day"] == mme
    # the expected figure is the one in the test's own GuidanceResponse
    folder = (MME / path).parent
    guidance = json.loads(next(folder.glob("GuidanceResponse-*.json")).read_text())
    total = guidance["contained"][0]["parameter"][0]["valueQuantity"]["value"]
    assert total == mme
    assert doc["summary"]["fhir"]["resources"] == [
        "MedicationRequest/" + json.loads((MME / path).read_text())["id"]]


@needs_shared
def test_a_dose_that_is_not_a_whole_er_tablet_is_said() -> None:
    doc = _json("check", "-f", str(MME / "patient-mme-less-than-fifty" /
                                   "example-rec-05-mme-less-than-fifty-context.json"))
    notes = [f["message"] for f in doc["findings"] if f["code"] == "MR010"]
    assert any("10 mg of an extended-release unit" in m and "60 mg" in m for m in notes)


# -- acceptance: a coded Bundle gives the same findings as the sig lines --------------------

APAP_650_Q4H = mr("apap", text("acetaminophen"), dose(650, "mg", every_h=4, prn=True))
PERCOCET = mr("percocet", coded("1049625"), dose(1, "tablet", "{tbl}", every_h=6, prn=True))


def test_coded_bundle_equals_the_sig_lines(tmp_path: Path) -> None:
    fhir = _json("check", "-f", write(tmp_path, bundle(APAP_650_Q4H, PERCOCET)))
    sig = _json("check", "acetaminophen 650 mg q4h prn",
                "oxycodone/acetaminophen 10/325 mg 1 tablet q6h prn")
    assert _key(fhir) == _key(sig)
    assert fhir["summary"]["mme_per_day"] == sig["summary"]["mme_per_day"] == 60
    assert "MR301" in [f["code"] for f in fhir["findings"]]  # 5,200 mg acetaminophen a day
    assert fhir["summary"]["fhir"]["resources"] == ["MedicationRequest/apap",
                                                    "MedicationRequest/percocet"]


def test_library_check_fhir_equals_the_cli(tmp_path: Path) -> None:
    doc = bundle(APAP_650_Q4H, PERCOCET)
    lib = medref.check_fhir(doc).to_dict()
    cli_doc = _json("check", "-f", write(tmp_path, doc))
    assert lib["findings"] == cli_doc["findings"]
    assert lib["summary"]["fhir"] == cli_doc["summary"]["fhir"]


# -- FHIR output ----------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft6Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


@needs_shared
def test_detected_issues_validate_and_implicate_the_right_request(tmp_path: Path) -> None:
    code, out, _ = _run("check", "-f", write(tmp_path, bundle(APAP_650_Q4H, PERCOCET)),
                        "--format", "fhir")
    assert code == 1
    doc = json.loads(out)
    errors = [e.message for e in _validator().iter_errors(doc)]
    assert errors == []
    issues = [e["resource"] for e in doc["entry"]]
    assert all(i["resourceType"] == "DetectedIssue" for i in issues)
    by_code = {next(c["code"] for c in i["code"]["coding"]
                    if c["system"] == "urn:medref:finding-code"): i for i in issues}
    apap = by_code["MR301"]
    assert apap["severity"] == "high"
    assert {c["code"] for c in apap["code"]["coding"]} >= {"DOSEH"}
    assert [r["reference"] for r in apap["implicated"]] == ["MedicationRequest/apap",
                                                            "MedicationRequest/percocet"]
    assert [r["reference"] for r in by_code["MR305"]["implicated"]] == [
        "MedicationRequest/percocet"]
    assert by_code["MR305"]["severity"] == "moderate"
    assert "5,200 mg" in apap["detail"]


@needs_shared
def test_the_schema_check_can_fail() -> None:
    """The validator used above rejects a broken DetectedIssue (a control)."""
    bad = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "DetectedIssue", "status": "final",
                      "severity": "severe"}}]}
    assert list(_validator().iter_errors(bad))


@needs_shared
def test_an_input_error_is_an_operation_outcome(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text('{"resourceType": "Bundle", "entry": [', encoding="utf-8")
    code, out, err = _run("check", "-f", str(p), "--format", "fhir")
    assert code == 2
    doc = json.loads(out)
    assert doc["resourceType"] == "OperationOutcome"
    assert doc["issue"][0]["severity"] == "error"
    assert list(_validator().iter_errors(doc)) == []
    assert "invalid JSON" in err and "Traceback" not in err


def test_a_sig_regimen_can_be_written_as_fhir() -> None:
    code, out, _ = _run("check", "ibuprofen 800 mg qid", "--format", "fhir")
    assert code == 1
    doc = json.loads(out)
    assert doc["resourceType"] == "Bundle"
    implicated = doc["entry"][0]["resource"]["implicated"]
    assert implicated == [{"display": "ibuprofen 800 mg qid"}]


# -- reading --------------------------------------------------------------------------------

def test_stopped_cancelled_errors_and_negated_orders_are_not_checked(tmp_path: Path) -> None:
    big = dose(1000, "mg", every_h=2)
    doc = bundle(mr("a", text("acetaminophen"), big, "stopped"),
                 mr("b", text("acetaminophen"), big, "cancelled"),
                 mr("c", text("acetaminophen"), big, "entered-in-error"),
                 mr("d", text("acetaminophen"), big, doNotPerform=True),
                 mr("e", text("ibuprofen"), dose(400, "mg", per_day=3)))
    out = _json("check", "-f", write(tmp_path, doc))
    assert out["summary"]["items"] == 1
    skipped = {s["resource"]: s["reason"] for s in out["summary"]["fhir"]["not_checked"]}
    assert set(skipped) == {"MedicationRequest/a", "MedicationRequest/b",
                            "MedicationRequest/c", "MedicationRequest/d"}
    assert "stopped" in skipped["MedicationRequest/a"]
    assert "doNotPerform" in skipped["MedicationRequest/d"]
    assert "MR301" not in [f["code"] for f in out["findings"]]


@needs_shared
def test_only_negated_or_stopped_orders_is_an_input_error() -> None:
    code, _, err = _run("check", "-f", str(EXAMPLES / "MedicationRequest-negation-example.json"))
    assert code == 2
    assert "no medication to check" in err and "status completed" in err


def test_lenient_shapes_are_read_and_reported(tmp_path: Path) -> None:
    d = dose(800, "mg", per_day=3)
    d["doseAndRate"] = d["doseAndRate"][0]  # an object where FHIR wants a list
    out = _json("check", "-f", write(tmp_path, bundle(mr("x", text("ibuprofen"), d),
                                                       btype=None)))
    msgs = " ".join(f["message"] for f in out["findings"])
    assert "doseAndRate given as a single value" in msgs
    assert any("without 'type'" in n for n in out["summary"]["fhir"]["notes"])
    sig = _json("check", "ibuprofen 800 mg tid")
    assert [k for k in _key(out) if k[0] != "MR010"] == _key(sig)


def test_text_and_coded_dosage_disagreeing_is_a_finding(tmp_path: Path) -> None:
    d = dose(1000, "mg", every_h=6)
    d["text"] = "500 mg every 6 hours"
    out = _json("check", "-f", write(tmp_path, mr("x", text("acetaminophen"), d)))
    mr013 = [f for f in out["findings"] if f["code"] == "MR013"]
    assert len(mr013) == 1 and mr013[0]["severity"] == "warning"
    assert ("500 mg" in mr013[0]["message"] and "1,000 mg" in mr013[0]["message"]) or \
        "1000" in mr013[0]["message"]
    d["text"] = "1000 mg every 6 hours"
    agree = _json("check", "-f", write(tmp_path, mr("x", text("acetaminophen"), d)))
    assert "MR013" not in [f["code"] for f in agree["findings"]]


def test_text_only_dosage_is_read_as_a_sig(tmp_path: Path) -> None:
    d = {"text": "1 g every 4 hours"}
    out = _json("check", "-f", write(tmp_path, mr("x", text("acetaminophen"), d)))
    assert "MR102" in [f["code"] for f in out["findings"]]  # 6 g a day


def test_patient_and_observations_give_the_context(tmp_path: Path) -> None:
    born = dt.date.today().replace(year=dt.date.today().year - 80) - dt.timedelta(days=1)
    doc = bundle(
        {"resourceType": "Patient", "id": "p1", "birthDate": born.isoformat()},
        {"resourceType": "Observation", "id": "w", "status": "final",
         "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
         "valueQuantity": {"value": 154, "unit": "lb", "code": "[lb_av]"},
         "effectiveDateTime": "2026-01-01"},
        {"resourceType": "Observation", "id": "c-old", "status": "final",
         "code": {"coding": [{"system": "http://loinc.org", "code": "2164-2"}]},
         "valueQuantity": {"value": 90, "code": "mL/min"}, "effectiveDateTime": "2025-01-01"},
        {"resourceType": "Observation", "id": "c-new", "status": "final",
         "code": {"coding": [{"system": "http://loinc.org", "code": "2164-2"}]},
         "valueQuantity": {"value": 22, "code": "mL/min"}, "effectiveDateTime": "2026-06-01"},
        mr("g", text("gabapentin"), dose(600, "mg", per_day=3)))
    out = _json("check", "-f", write(tmp_path, doc))
    ctx = out["summary"]["context"]
    assert ctx["age"] == 80 and ctx["crcl"] == 22 and ctx["weight"] == pytest.approx(69.853)
    assert out["summary"]["context_sources"]["age"] == "input"
    assert "MR107" in [f["code"] for f in out["findings"]]  # gabapentin renal maximum


@needs_shared
def test_cds_hooks_examples_read_and_ignore_what_is_not_a_medication() -> None:
    for path in sorted(HOOKS.glob("order-s*.json")):
        doc = json.loads(path.read_text())
        if "context" not in doc or "hook" not in doc:
            continue
        rec = fhir_record(doc)
        assert rec.error is None, path
        assert rec.fhir is not None
        if "draftOrders" in doc["context"]:
            assert all(r == "draft" for r in rec.fhir.roles[:1]), path


def test_a_malformed_resource_is_an_unreadable_line_not_a_crash(tmp_path: Path) -> None:
    bad = mr("x", text("ibuprofen"), None, dosageInstruction=[{"timing": {"repeat": {
        "frequency": "often"}}}])
    good = mr("y", text("acetaminophen"), dose(1, "g", every_h=6))
    code, out, err = _run("check", "-f", write(tmp_path, bundle(bad, good)), "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    mr001 = [f for f in doc["findings"] if f["code"] == "MR001"]
    assert mr001 and "MedicationRequest/x" in mr001[0]["message"]
    assert "frequency" in mr001[0]["message"]
    assert doc["summary"]["items"] == 2


def test_medication_reference_to_a_contained_medication(tmp_path: Path) -> None:
    res = mr("x", {"medicationReference": {"reference": "#m1"}},
             dose(2, "tablet", "{tbl}", every_h=4),
             contained=[{"resourceType": "Medication", "id": "m1", "code": {"coding": [
                 {"system": RX, "code": "1049625"}]}}])
    out = _json("check", "-f", write(tmp_path, res))
    item = out["items"][0]
    apap = {i["id"]: i for i in item["ingredients"]}["acetaminophen"]
    assert apap["daily_total"] == 650 * 6  # 2 x 325 mg, 6 times a day


def test_rxnorm_names_are_read() -> None:
    p = parse_rxnorm_name("acetaminophen 325 MG / oxycodone hydrochloride 10 MG Oral Tablet "
                          "[Percocet]")
    assert p is not None and p.name == "Percocet" and p.combination
    assert [(x.name, x.amount, x.unit) for x in p.parts] == [
        ("acetaminophen", 325, "mg"), ("oxycodone hydrochloride", 10, "mg")]
    f = parse_rxnorm_name("72 HR fentanyl 0.075 MG/HR Transdermal System")
    assert f is not None and f.strength == "75 mcg/hr" and f.form == "patch"
    o = parse_rxnorm_name("oxycodone hydrochloride 60 MG 12 HR Extended Release Oral Tablet")
    assert o is not None and o.formulation == "ER" and o.strength == "60 mg"
    assert parse_rxnorm_name("Take two tablets daily") is None


def test_batch_reads_fhir_bundles_like_check(tmp_path: Path) -> None:
    docs = [bundle(APAP_650_Q4H, PERCOCET), bundle(mr("i", text("ibuprofen"),
                                                      dose(800, "mg", per_day=4)))]
    for i, d in enumerate(docs):
        d["id"] = f"b{i}"
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _, err = _run("batch", str(src), "-o", str(out))
    assert code == 1, err
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    for d, row in zip(docs, rows, strict=True):
        one = _json("check", "-f", write(tmp_path, d))
        assert row["id"] == d["id"]
        assert row["findings"] == one["findings"]
        assert row["summary"]["fhir"] == one["summary"]["fhir"]


# -- a property: coded dosage and the same sig agree ---------------------------------------

DRUGS = [("ibuprofen", "mg", [200, 400, 600, 800]), ("acetaminophen", "mg", [325, 500, 1000]),
         ("tramadol", "mg", [50, 100]), ("oxycodone", "mg", [5, 10, 15]),
         ("gabapentin", "mg", [300, 600, 1200]), ("naproxen", "mg", [250, 500])]


@st.composite
def orders(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[str]]:
    n = draw(st.integers(1, 3))
    resources, sigs = [], []
    for i in range(n):
        name, unit, amounts = draw(st.sampled_from(DRUGS))
        amount = draw(st.sampled_from(amounts))
        prn = draw(st.booleans())
        if draw(st.booleans()):
            h = draw(st.sampled_from([4, 6, 8, 12]))
            d, freq = dose(amount, unit, every_h=h, prn=prn), f"q{h}h"
        else:
            k = draw(st.sampled_from([1, 2, 3, 4]))
            d = dose(amount, unit, per_day=k, prn=prn)
            freq = {1: "daily", 2: "bid", 3: "tid", 4: "qid"}[k]
        resources.append(mr(f"m{i}", text(name), d))
        sigs.append(f"{name} {amount} {unit} {freq}" + (" prn" if prn else ""))
    return resources, sigs


@settings(max_examples=40)
@given(case=orders(), age=st.one_of(st.none(), st.integers(18, 95)))
def test_coded_orders_and_their_sig_lines_agree(
        case: tuple[list[dict[str, Any]], list[str]], age: int | None) -> None:
    resources, sigs = case
    ctx = {"age": age} if age is not None else None
    fhir = medref.check_fhir(bundle(*copy.deepcopy(resources)), ctx).to_dict()
    sig = medref.check(sigs, ctx).to_dict()
    assert _key(fhir) == _key(sig)
    assert fhir["summary"]["mme_per_day"] == sig["summary"]["mme_per_day"]
    many = list(medref.check_many([bundle(*resources)], context=ctx))
    assert many[0].result is not None
    assert many[0].to_dict()["findings"] == fhir["findings"]


def test_a_bad_rxnorm_file_fails_loudly_naming_file_code_and_field(tmp_path: Path) -> None:
    import shutil

    from medref.errors import DataError
    from medref.reference import bundled_data_dir, load_reference
    src = bundled_data_dir()
    assert src is not None
    data = tmp_path / "data"
    shutil.copytree(src, data)
    doc = json.loads((data / "rxnorm.json").read_text(encoding="utf-8"))
    doc["codes"][3]["sources"] = ["no-such-source"]
    (data / "rxnorm.json").write_text(json.dumps(doc), encoding="utf-8")
    ref = load_reference(data)
    with pytest.raises(DataError) as err:
        ref.rxnorm_codes()
    msg = str(err.value)
    assert "rxnorm.json" in msg and doc["codes"][3]["rxcui"] in msg and "sources" in msg


# -- regressions from the review of the first FHIR step: each was silent or wrong ----------

Q4H = {"frequency": 1, "period": 4, "periodUnit": "h"}


def order(med: dict[str, Any], value: float | None = None, unit: str | None = None,
          code: str | None = None, repeat: dict[str, Any] | None = None,
          **dosage: Any) -> dict[str, Any]:
    d: dict[str, Any] = dict(dosage)
    if value is not None:
        q: dict[str, Any] = {"value": value}
        if unit:
            q["unit"] = unit
        if code:
            q["code"] = code
        d["doseAndRate"] = [{"doseQuantity": q}]
    if repeat is not None:
        d["timing"] = {"repeat": repeat}
    return mr("o1", med, d)


def _daily(doc: dict[str, Any]) -> tuple[dict[str, float | None], set[str]]:
    r = medref.check_fhir(doc).to_dict()
    items = r["items"]
    totals = {i["id"]: i["daily_total"] for it in items for i in it.get("ingredients") or []}
    return totals, {f"{f['severity']}:{f['code']}" for f in r["findings"]}


@pytest.mark.parametrize(("doc", "totals", "codes"), [
    # a combination not on file (APAP 500 / codeine 30 capsule): every ingredient counts
    (order(coded("996979"), 2, "capsule", repeat=Q4H),
     {"acetaminophen": 6000, "codeine": 360}, {"error:MR102"}),
    # a brand strength not on file (Percocet 650/10): read by its ingredients
    (order(coded("1049650"), 2, "tablet", repeat=Q4H),
     {"acetaminophen": 7800, "oxycodone": 120}, {"error:MR102"}),
    # "EA" is a count, never "1 tablet assumed"
    (order(coded("1049625"), 4, "EA", repeat=Q4H),
     {"acetaminophen": 7800, "oxycodone": 240}, {"error:MR102"}),
    # a period without its unit is not read as days
    (order(text("acetaminophen"), 1000, "mg", repeat={"frequency": 1, "period": 4}),
     {}, {"warning:MR001"}),
    # unit text and UCUM code disagreeing is not checked as the smaller
    (order(text("acetaminophen"), 1500, "mcg", "mg", {"frequency": 1, "period": 6,
                                                      "periodUnit": "h"}),
     {}, {"warning:MR001"}),
    # once a day and five times of day: the worst case is checked, and the conflict said
    (order(text("acetaminophen"), 1000, "mg", repeat={
        "frequency": 1, "period": 1, "periodUnit": "d",
        "when": ["MORN", "NOON", "EVE", "HS", "NIGHT"]}),
     {"acetaminophen": 5000}, {"error:MR102", "warning:MR013"}),
    # a liquid by mL: 40 mL of 20 mg/mL ibuprofen is 800 mg
    (order(coded("748641"), 40, "mL", repeat=Q4H), {"ibuprofen": 4800}, {"error:MR102"}),
    # a patch rate as the dose
    (order(coded("197696"), 100, "mcg/h", repeat={"frequency": 1, "period": 72,
                                                  "periodUnit": "h"}),
     {"fentanyl": 100}, {"warning:MR306"}),
    # an absurd period is a problem, not an internal error
    (order(text("acetaminophen"), 1000, "mg", repeat={"frequency": 1, "period": 1e-320,
                                                      "periodUnit": "h"}),
     {}, {"warning:MR001"}),
    # explicit events: the most on one day
    (order(text("acetaminophen"), 1000, "mg", timing={"event": [
        f"2026-01-01T0{i}:00:00" for i in range(5)]}),
     {"acetaminophen": 5000}, {"error:MR102"}),
    # "hour" for "h"
    (order(text("acetaminophen"), 1000, "mg", repeat={"frequency": 1, "period": 2,
                                                      "periodUnit": "hour"}),
     {"acetaminophen": 12000}, {"error:MR102"}),
    # the text fills what the coded fields leave out (here: the dose and the timing)
    (order(text("acetaminophen"), text="1000 mg by mouth every 4 hours as needed",
           asNeededBoolean=True),
     {"acetaminophen": 6000}, {"error:MR102"}),
])
def test_review_regressions(doc: dict[str, Any], totals: dict[str, float],
                            codes: set[str]) -> None:
    got, found = _daily(doc)
    for ing, amount in totals.items():
        assert got.get(ing) == pytest.approx(amount), (got, found)
    assert codes <= found, found


def test_a_contained_medication_strength_is_read() -> None:
    res = order({"medicationReference": {"reference": "#m"}}, 2, "tablet", repeat=Q4H)
    res["contained"] = [{"resourceType": "Medication", "id": "m", "code": {
        "text": "acetaminophen"}, "ingredient": [{"itemCodeableConcept": {
            "text": "acetaminophen"}, "strength": {"numerator": {"value": 500, "unit": "mg"},
                                                    "denominator": {"value": 1,
                                                                    "unit": "tablet"}}}]}]
    got, found = _daily(res)
    assert got["acetaminophen"] == 6000 and "error:MR102" in found


def test_concurrent_dosage_instructions_are_summed_and_sequential_ones_are_steps() -> None:
    tid = {"doseAndRate": [{"doseQuantity": {"value": 1000, "unit": "mg"}}],
           "timing": {"repeat": {"frequency": 3, "period": 1, "periodUnit": "d"}}}
    hs = {"doseAndRate": [{"doseQuantity": {"value": 2000, "unit": "mg"}}],
          "timing": {"repeat": {"when": ["HS"]}}}
    both = mr("o1", text("acetaminophen"), None, dosageInstruction=[tid, hs])
    r = medref.check_fhir(both)
    assert [f.severity for f in r.findings if f.code == "MR301"] == ["error"]  # 5 g a day
    steps = mr("o1", text("acetaminophen"), None, dosageInstruction=[
        {**tid, "sequence": 1}, {"sequence": 2, "doseAndRate": tid["doseAndRate"],
                                 "timing": {"repeat": Q4H}}])
    r = medref.check_fhir(steps)
    assert len(r.items) == 1
    assert [f.severity for f in r.findings if f.code == "MR102"] == ["error"]  # 6 g, step 2


def test_a_daily_cap_below_one_dose_does_not_switch_off_the_daily_check() -> None:
    d = {"doseAndRate": [{"doseQuantity": {"value": 1000, "unit": "mg"}}],
         "timing": {"repeat": Q4H},
         "maxDosePerPeriod": {"numerator": {"value": 3, "unit": "mg"},
                              "denominator": {"value": 1, "unit": "d"}}}
    got, found = _daily(mr("o1", text("acetaminophen"), d))
    assert got["acetaminophen"] == 6000 and "error:MR102" in found
    sig = medref.check(["acetaminophen 1000 mg q4h max 0 mg a day"])
    assert "MR102" in [f.code for f in sig.findings]


@needs_shared
@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("MedicationRequest-*.json"))
                         if EXAMPLES.is_dir() else [])
def test_every_shared_medication_request_example_reads(name: str) -> None:
    """The US Core and CDC examples: each is read (or refused with a clear reason), never a
    crash; the negated one is not checked and says why."""
    doc = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    rec = fhir_record(doc)
    assert rec.error is None
    assert rec.fhir is not None
    if "negation" in name:
        assert rec.items == [] and rec.fhir.skipped
        return
    result = medref.check_fhir(doc)
    assert len(result.items) == 1
    assert result.summary.fhir is not None


@pytest.mark.parametrize(("name", "dosage", "sig", "product"), [
    # two drugs written on one order: never one tramadol/acetaminophen tablet (it was, with
    # an MR102 error resting on the assumed product, while the sig line read acetaminophen)
    ("tylenol and tramadol", dose(2, "tablet", "{tablet}", every_h=4),
     "tylenol and tramadol 2 tablets q4h", "acetaminophen"),
    ("tylenol and tramadol", dose(50, "mg", every_h=6), "tylenol and tramadol 50 mg q6h",
     "acetaminophen"),
    ("HYDROCODONE BITARTRATE-ACETAMINOPHEN", dose(1, "tablet", "{tablet}", every_h=6),
     "HYDROCODONE BITARTRATE-ACETAMINOPHEN 1 tablet q6h", "hydrocodone"),
    # a stated amount of one of its strengths confirms the combination both ways
    ("HYDROCODONE BITARTRATE-ACETAMINOPHEN 10 MG", dose(1, "tablet", "{tablet}", every_h=6),
     "HYDROCODONE BITARTRATE-ACETAMINOPHEN 10 MG 1 tablet q6h", "hydrocodone-acetaminophen")])
def test_an_assembled_combination_reads_alike_from_fhir_and_a_sig(
        name: str, dosage: dict[str, Any], sig: str, product: str) -> None:
    fhir = medref.check_fhir(bundle(mr("m1", text(name), dosage)))
    line = medref.check([sig])
    assert fhir.items[0].product == line.items[0].product == product
    assert sorted((f.code, f.severity) for f in fhir.findings) == sorted(
        (f.code, f.severity) for f in line.findings)


def test_milliequivalents_in_ucum_are_read() -> None:
    """A dose in UCUM ``meq`` (potassium chloride) is milliequivalents, checked against the
    label's 20 mEq single-dose limit as a sig line would be."""
    doc = order(text("potassium chloride ER"), 40, "mEq", "meq",
                {"frequency": 1, "period": 1, "periodUnit": "d"})
    r = medref.check_fhir(doc)
    item = r.items[0]
    assert (item.dose, item.unit, item.daily_total) == (40, "mEq", 40)
    assert [(f.code, f.severity) for f in r.findings if f.code == "MR101"] == [("MR101",
                                                                                 "warning")]
    assert r.findings == medref.check(["potassium chloride ER 40 mEq daily"]).findings
