"""FHIR R4 output: findings as a Bundle of DetectedIssue, input errors as an OperationOutcome.

Each finding is one DetectedIssue: its HL7 v3 ActCode issue code (DOSEH, DUPTHPY, DRG ...)
with medref's own code beside it, a severity (error high, warning moderate, info low), the
input resources it ``implicated`` (for FHIR input; the line text otherwise), and a ``detail``
with the message and its sources. ``medref check --format fhir`` prints it; the CDS Hooks
service builds its cards from the same findings.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Any, Final

from medref._version import __version__
from medref.reference import Reference
from medref.regimen import FhirInfo
from medref.result import CheckResult, Finding

ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
MEDREF_CODES: Final = "urn:medref:finding-code"
"""The coding system of medref's own finding codes (``MR102``) in FHIR output."""

SEVERITY: Final = {"error": "high", "warning": "moderate", "info": "low"}
"""medref severity -> DetectedIssue.severity."""

_ACT: Final = {
    "daily-max": ("DOSEH", "High Dose Alert"),
    "dose-high": ("DOSEH", "High Dose Alert"),
    "upper-limit": ("DOSEH", "High Dose Alert"),
    "opioid-mme": ("DOSEH", "High Dose Alert"),
    "dose-low": ("DOSEL", "Low Dose Alert"),
    "duration": ("DOSEDUR", "Dose-Duration Alert"),
    "administration": ("DOSEIVL", "Dose-Interval Alert"),
    "duplicate-therapy": ("DUPTHPY", "Duplicate Therapy Alert"),
    "interaction": ("DRG", "Drug Interaction Alert"),
    "bone-healing": ("COND", "Condition Alert"),
}
"""Finding category -> v3 ActCode detected-issue code (input problems get none)."""

_ACT_BY_CODE: Final = {
    "MR108": ("DOSEHINDW", "High Dose for Weight Alert"),
    "MR109": ("DOSEHINDW", "High Dose for Weight Alert"),
    "MR604": ("AGE", "Age Alert"),
    "MR601": ("COND", "Condition Alert"),
}


def act_code(f: Finding) -> tuple[str, str] | None:
    """The v3 ActCode (code, display) of a finding, or None for input problems."""
    return _ACT_BY_CODE.get(f.code) or _ACT.get(f.category)


def _id(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def detected_issue(f: Finding, n: int, result: CheckResult, reference: Reference,
                   fhir: FhirInfo | None, when: str, run: str) -> dict[str, Any]:
    """One finding as a DetectedIssue resource."""
    coding: list[dict[str, str]] = []
    act = act_code(f)
    if act is not None:
        coding.append({"system": ACT_CODE, "code": act[0], "display": act[1]})
    coding.append({"system": MEDREF_CODES, "code": f.code, "display": f.category})
    issue: dict[str, Any] = {
        "resourceType": "DetectedIssue", "id": f"medref-{_id(run, n, f.code)}",
        "status": "final", "code": {"coding": coding, "text": f"{f.code} {f.category}"},
        "severity": SEVERITY[f.severity], "identifiedDateTime": when,
        "author": {"display": f"medref {__version__} (data {reference.info.version}, "
                              f"{reference.info.sha256[:12]})"},
        "detail": f.message + (f" Source: {f.source}." if f.source and f.source not in
                               f.message else ""),
    }
    if fhir is not None and fhir.patient:
        issue["patient"] = {"reference": fhir.patient}
    implicated = []
    for i in f.lines:
        if fhir is not None and i < len(fhir.refs):
            implicated.append({"reference": fhir.refs[i]})
        elif i < len(result.items):
            implicated.append({"display": result.items[i].input[:200]})
    if implicated:
        issue["implicated"] = implicated
    return issue


def detected_issues(result: CheckResult, reference: Reference, fhir: FhirInfo | None = None,
                    now: _dt.datetime | None = None) -> dict[str, Any]:
    """A ``collection`` Bundle of one DetectedIssue per finding (in the findings' order)."""
    stamp = (now or _dt.datetime.now(_dt.UTC)).replace(microsecond=0).isoformat()
    run = _id(stamp, *(f.sort_key() for f in result.findings))
    entries = []
    for n, f in enumerate(result.findings):
        res = detected_issue(f, n, result, reference, fhir, stamp, run)
        entries.append({"fullUrl": f"urn:uuid:{_uuid(res['id'])}", "resource": res})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "id": f"medref-{run}",
                              "type": "collection", "timestamp": stamp, "entry": entries}
    if not entries:
        del bundle["entry"]
    return bundle


def _uuid(hex32: str) -> str:
    h = hex32.removeprefix("medref-")
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def operation_outcome(message: str, *, code: str = "invalid", where: str | None = None
                      ) -> dict[str, Any]:
    """An OperationOutcome with one error issue (an input that could not be read)."""
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": message}
    if where:
        issue["expression"] = [where]
    return {"resourceType": "OperationOutcome", "issue": [issue]}
