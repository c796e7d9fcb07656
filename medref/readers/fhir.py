"""FHIR R4 input: MedicationRequest, MedicationStatement, a Bundle of them, a CDS Hooks request.

Reading happens in two steps, like every other input. :func:`fhir_record` walks the document
(a resource, a Bundle, or a CDS Hooks request with its ``draftOrders`` and prefetch): it keeps
the medication resources to check, with their Medication resolved (``contained`` or in the
Bundle), sets aside those that are not to be checked (stopped, cancelled, entered-in-error,
completed, negated) saying why, and reads the patient context (age from the Patient, the latest
weight and renal function Observations by LOINC code). :func:`read_entry` then turns one
resource into a :class:`~medref.regimen.MedicationLine` with the lexicon: the medication by
RxNorm code (medref's code map) or by its text, and the Dosage field by field, with no round
trip of the coded dose through sig text. Everything assumed or repaired is reported (MR010),
and ``dosage.text`` is read and compared with the coded fields (MR013 when they disagree).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from pydantic import ValidationError

from medref.context import context_from_raw
from medref.knowledge import Product, fmt
from medref.readers import fhir_model as fm
from medref.readers.lines import (
    Lexicon,
    line_from_parsed,
    read_sig,
    unconfirmed_combination,
)
from medref.regimen import (
    ROLE_ACTIVE,
    ROLE_DRAFT,
    ROLE_INPUT,
    FhirEntry,
    FhirInfo,
    Frequency,
    IngredientDose,
    MedicationLine,
    Record,
    Skipped,
)
from medref.sig import (
    COUNT_UNITS,
    MONTH_DAYS,
    UNIT_ALIASES,
    ParsedLine,
    add_amount,
    finish,
    scan_rest,
    split_name,
)
from medref.text import SALT_WORDS, clean_text, normalize

RXNORM: Final = "rxnorm"
"""Coding systems ending with this are RxNorm (``http://www.nlm.nih.gov/research/umls/rxnorm``)."""

MEDICATION_TYPES: Final = ("MedicationRequest", "MedicationStatement")
SKIP_STATUS: Final = {
    "MedicationRequest": ("stopped", "cancelled", "entered-in-error", "completed"),
    "MedicationStatement": ("stopped", "entered-in-error", "completed", "not-taken"),
}
"""Statuses whose medication is not (or no longer) taken: not checked, and the output says so."""


# LOINC codes read from Observations (the latest final value of each)
WEIGHT_LOINC: Final = ("29463-7", "3141-9")
CRCL_LOINC: Final = ("2164-2",)
EGFR_LOINC: Final = ("33914-3", "48642-3", "48643-1", "62238-1", "98979-8", "77147-7",
                     "50044-7", "88293-6", "88294-4")
"""Creatinine-based eGFR (MDRD, CKD-EPI 2009 and 2021); cystatin-based codes (50210-4) are
not read: the label rules medref applies by CrCl are creatinine-based."""

ROUTE_SNOMED: Final = {
    "26643006": "po", "47625008": "iv", "78421000": "im", "34206005": "sc",
    "6064005": "topical", "45890007": "transdermal", "37161004": "pr", "46713006": "intranasal",
    "37839007": "sl", "54485002": "ophthalmic", "447694001": "inhaled",
}
"""SNOMED CT route codes (FHIR's route value set) for the routes medref knows."""

_UCUM: Final = {
    "mg": "mg", "ug": "mcg", "g": "g", "ml": "mL", "ml/h": "mL", "[iu]": "IU", "iu": "IU",
    "meq": "mEq",
    "{tbl}": "tablet", "{tablet}": "tablet", "{tablets}": "tablet", "{tab}": "tablet",
    "{capsule}": "capsule", "{capsules}": "capsule", "{cap}": "capsule", "{caplet}": "caplet",
    "{patch}": "patch", "{patches}": "patch", "{puff}": "puff", "{puffs}": "puff",
    "{spray}": "spray", "{drop}": "drop", "{drp}": "drop", "{each}": "each", "1": "each",
    "{applicatorful}": "each", "{application}": "each", "ea": "each", "each": "each",
    "{ea}": "each", "unit": "each", "tab": "tablet", "tabs": "tablet", "cap": "capsule",
    "caps": "capsule", "ug/h": "mcg/h", "mcg/h": "mcg/h", "mcg/hr": "mcg/h",
    "ug/hr": "mcg/h", "{patch}/d": "patch",
}
"""UCUM codes (and common annotations) to medref's units."""

_PERIOD_HOURS: Final = {"s": 1 / 3600, "min": 1 / 60, "h": 1.0, "d": 24.0, "wk": 168.0,
                        "mo": MONTH_DAYS * 24, "a": 365 * 24.0}
_PERIOD_UNITS: Final = {
    "s": "s", "min": "min", "h": "h", "d": "d", "wk": "wk", "mo": "mo", "a": "a",
    "sec": "s", "second": "s", "seconds": "s", "minute": "min", "minutes": "min",
    "hr": "h", "hrs": "h", "hour": "h", "hours": "h", "day": "d", "days": "d",
    "week": "wk", "weeks": "wk", "w": "wk", "month": "mo", "months": "mo", "year": "a",
    "years": "a", "y": "a"}
"""periodUnit: FHIR's UnitsOfTime codes, and the words senders write instead."""

_DAYS: Final = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1.0, "wk": 7.0,
                "mo": MONTH_DAYS, "a": 365.0}
_WHEN_ONCE: Final = frozenset({"MORN", "MORN.early", "MORN.late", "NOON", "AFT", "AFT.early",
                               "AFT.late", "EVE", "EVE.early", "EVE.late", "NIGHT", "PHS", "HS",
                               "WAKE", "C", "CM", "CD", "CV", "AC", "ACM", "ACD", "ACV", "PC",
                               "PCM", "PCD", "PCV"})
_MEALS: Final = {"C": 3, "AC": 3, "PC": 3}
"""``C``/``AC``/``PC`` (with meals, before meals, after meals): three meals a day."""


# -- the document ------------------------------------------------------------------------------
class _Walk:
    """Collects entries, skipped resources, context and notes from one document."""

    def __init__(self, today: _dt.date) -> None:
        self.today = today
        self.entries: list[FhirEntry] = []
        self.skipped: list[Skipped] = []
        self.notes: list[str] = []
        self.patients: list[Mapping[str, Any]] = []
        self.observations: list[Mapping[str, Any]] = []
        self.patient_ref: str | None = None
        self.ignored: dict[str, int] = {}

    # resources ------------------------------------------------------------------------------
    def bundle(self, b: Mapping[str, Any], role: str, where: str) -> None:
        if b.get("type") is None:
            self.notes.append(f"{where}: Bundle without 'type'; read as a collection")
        entries = b.get("entry") or []
        if isinstance(entries, Mapping):
            self.notes.append(f"{where}: Bundle.entry given as an object; read as a list of one")
            entries = [entries]
        if not isinstance(entries, list):
            raise ValueError(f"{where}: Bundle.entry must be a list")
        meds: dict[str, Mapping[str, Any]] = {}
        resources: list[tuple[str | None, Mapping[str, Any]]] = []
        bare = 0
        for i, e in enumerate(entries):
            if not isinstance(e, Mapping):
                raise ValueError(f"{where}: entry[{i}] must be an object")
            if "resource" not in e and isinstance(e.get("resourceType"), str):
                e = {"resource": e}  # an older shape: the entry is the resource itself
                bare += 1
            res = e.get("resource")
            if not isinstance(res, Mapping):
                self.notes.append(f"{where}: entry[{i}] has no resource; ignored")
                continue
            full = e.get("fullUrl") if isinstance(e.get("fullUrl"), str) else None
            resources.append((full, res))
            if res.get("resourceType") == "Medication":
                for k in _keys(full, res):
                    meds[k] = res
        if bare:
            self.notes.append(f"{where}: {bare} entries are bare resources (not "
                              "{\"resource\": ...}); read as resources")
        for full, res in resources:
            self.resource(res, role, where, meds, full)

    def resource(self, res: Mapping[str, Any], role: str, where: str,
                 meds: Mapping[str, Mapping[str, Any]] | None = None,
                 full: str | None = None) -> None:
        kind = res.get("resourceType")
        if kind == "Bundle":
            self.bundle(res, role, f"{where} Bundle" if where else "Bundle")
        elif kind in MEDICATION_TYPES:
            self.medication_use(res, str(kind), role, meds or {}, full)
        elif kind == "MedicationOrder":  # the DSTU2 name of MedicationRequest
            self.notes.append(f"{where or 'input'}: MedicationOrder (FHIR DSTU2) read as a "
                              "MedicationRequest")
            self.medication_use({**res, "resourceType": "MedicationRequest"},
                                "MedicationRequest", role, meds or {}, full)
        elif kind == "Patient":
            self.patients.append(res)
        elif kind == "Observation":
            self.observations.append(res)
        elif kind == "OperationOutcome":
            self.notes.append(f"{where or 'input'}: an OperationOutcome instead of data "
                              f"({_outcome_text(res)})")
        elif kind != "Medication":
            self.ignored[str(kind)] = self.ignored.get(str(kind), 0) + 1

    def medication_use(self, res: Mapping[str, Any], kind: str, role: str,
                       meds: Mapping[str, Mapping[str, Any]], full: str | None) -> None:
        rid = res.get("id")
        ref = f"{kind}/{rid}" if isinstance(rid, str) and rid else (
            full or f"{kind}#{len(self.entries) + len(self.skipped) + 1}")
        subject = res.get("subject")
        if self.patient_ref is None and isinstance(subject, Mapping):
            sref = subject.get("reference")
            if isinstance(sref, str):
                self.patient_ref = sref
        status = res.get("status")
        if isinstance(status, str) and status in SKIP_STATUS.get(kind, ()):
            self.skipped.append(Skipped(ref, f"status {status}: not taken, not checked"))
            return
        if res.get("doNotPerform") is True:
            self.skipped.append(Skipped(ref, "doNotPerform: an order not to give it, not "
                                        "checked"))
            return
        if kind == "MedicationStatement" and res.get("taken") in ("n", "false"):
            self.skipped.append(Skipped(ref, "taken: no (STU3), not checked"))
            return
        notes: list[str] = []
        med: Mapping[str, Any] | None = None
        mref = res.get("medicationReference")
        if isinstance(mref, Mapping) and isinstance(mref.get("reference"), str):
            target = str(mref["reference"])
            if target.startswith("#"):
                for c in res.get("contained") or []:
                    if isinstance(c, Mapping) and c.get("id") == target[1:]:
                        med = c
                        break
            else:
                med = meds.get(target)
            if med is None:
                notes.append(f"medicationReference {target!r} not found in the input; read by "
                             "its display" if mref.get("display") else
                             f"medicationReference {target!r} not found in the input")
        key = "dosage" if kind == "MedicationStatement" and "dosageInstruction" not in res \
            else "dosageInstruction"
        dosages = res.get(key)
        if isinstance(dosages, list) and len(dosages) > 1 and all(
                isinstance(d, Mapping) for d in dosages):
            groups: dict[object, list[Mapping[str, Any]]] = {}
            for d in dosages:
                groups.setdefault(d.get("sequence"), []).append(d)
            if len(groups) == 1:  # concurrent instructions: each is a line, all counted
                n = len(dosages)
                for k, d in enumerate(dosages, 1):
                    self.entries.append(FhirEntry(
                        {**res, key: [d]}, med, ref, role,
                        (*notes, f"dosage instruction {k} of {n}, taken together")))
                return
        self.entries.append(FhirEntry(res, med, ref, role, tuple(notes)))

    # CDS Hooks ------------------------------------------------------------------------------
    def hook_request(self, req: Mapping[str, Any]) -> None:
        ctx = req.get("context")
        if not isinstance(ctx, Mapping):
            raise ValueError("a CDS Hooks request needs a context object")
        draft = ctx.get("draftOrders")
        if draft is None and ctx.get("medications") is not None:
            draft = ctx.get("medications")
            self.notes.append("context.medications (an older CDS Hooks shape) read as the "
                              "draft orders")
        if isinstance(draft, list):
            draft = {"resourceType": "Bundle", "type": "collection", "entry": draft}
        if isinstance(draft, Mapping):
            self.resource(draft, ROLE_DRAFT, "context.draftOrders")
        elif draft is not None:
            raise ValueError("context.draftOrders must be a Bundle")
        pid = ctx.get("patientId")
        if isinstance(pid, str) and pid:
            self.patient_ref = f"Patient/{pid}"
        prefetch = req.get("prefetch")
        if isinstance(prefetch, Mapping):
            for key, value in prefetch.items():
                if isinstance(value, Mapping) and "resourceType" not in value and \
                        isinstance(value.get("resource"), Mapping):
                    self.notes.append(f"prefetch.{key}: a {{response, resource}} pair (an "
                                      "older shape); its resource read")
                    value = value["resource"]
                if value is None:
                    self.notes.append(f"prefetch.{key}: null (not available)")
                elif isinstance(value, Mapping) and isinstance(value.get("resourceType"), str):
                    self.resource(value, ROLE_ACTIVE, f"prefetch.{key}")
                else:
                    self.notes.append(f"prefetch.{key}: not a FHIR resource; ignored")

    # context --------------------------------------------------------------------------------
    def context(self) -> dict[str, object]:
        raw: dict[str, object] = {}
        for p in self.patients:
            try:
                pat = fm.Patient.model_validate(p)
            except ValidationError:
                self.notes.append("Patient: unreadable; age not read")
                continue
            if pat.birthDate:
                age = _age(pat.birthDate, self.today)
                if age is None:
                    self.notes.append(f"Patient.birthDate {pat.birthDate!r} not a date; age "
                                      "not read")
                else:
                    raw["age"] = age
                    if self.patient_ref is None and pat.id:
                        self.patient_ref = f"Patient/{pat.id}"
                break
        for key, codes, unit_map in (("weight", WEIGHT_LOINC, _WEIGHT_UNITS),
                                     ("crcl", CRCL_LOINC, _RENAL_UNITS),
                                     ("egfr", EGFR_LOINC, _RENAL_UNITS)):
            got = self._latest(codes, unit_map, key)
            if got is not None:
                raw[key] = got
        return raw

    def _latest(self, codes: tuple[str, ...], units: Mapping[str, float], key: str
                ) -> float | None:
        best: tuple[str, float] | None = None
        for o in self.observations:
            try:
                obs = fm.Observation.model_validate(o)
            except ValidationError:
                continue
            if obs.code is None or not set(obs.code.codes("loinc.org")) & set(codes):
                continue
            if obs.status in ("cancelled", "entered-in-error", "registered", "preliminary"):
                continue
            q = obs.valueQuantity
            if q is None or q.value is None or not math.isfinite(q.value):
                continue
            unit = (q.code or q.unit or "").strip()
            k = units.get(unit) if unit else None
            if k is None:
                self.notes.append(f"Observation/{obs.id or '?'}: {key} in unit {unit!r} not "
                                  "understood; not used")
                continue
            when = obs.effectiveDateTime or obs.issued or ""
            if best is None or when > best[0]:
                best = (when, q.value * k)
        return None if best is None else round(best[1], 3)


_WEIGHT_UNITS: Final = {"kg": 1.0, "g": 0.001, "[lb_av]": 0.45359237, "lb": 0.45359237,
                        "lbs": 0.45359237}
_RENAL_UNITS: Final = {"mL/min": 1.0, "ml/min": 1.0, "mL/min/{1.73_m2}": 1.0,
                       "mL/min/1.73m2": 1.0, "mL/min/1.73 m2": 1.0, "ml/min/1.73m2": 1.0,
                       "mL/min/[1.73_m2]": 1.0, "mL/min/1.73_m2": 1.0}


def _keys(full: str | None, res: Mapping[str, Any]) -> list[str]:
    keys = [full] if full else []
    rid = res.get("id")
    if isinstance(rid, str):
        keys.append(f"{res.get('resourceType')}/{rid}")
        if full and "/" in full:
            keys.append(full.rsplit("/", 2)[-2] + "/" + rid if full.count("/") >= 1 else rid)
    return keys


def _outcome_text(res: Mapping[str, Any]) -> str:
    issues = res.get("issue")
    if isinstance(issues, list) and issues and isinstance(issues[0], Mapping):
        i = issues[0]
        det = i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code")
        return str(det)[:120]
    return "no detail"


def _age(birth: str, today: _dt.date) -> int | None:
    m = re.match(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", birth)
    if m is None:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    try:
        born = _dt.date(y, mo, d)
    except ValueError:
        return None
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return years if 0 <= years <= 130 else None


def fhir_record(obj: Mapping[str, Any], line: int = 1, *,
                today: _dt.date | None = None) -> Record:
    """A :class:`Record` from a FHIR document (never raises: ``error`` is set when the
    document cannot be read). Its items are :class:`FhirEntry` objects and ``fhir`` says what
    else the document held."""
    walk = _Walk(today or _dt.date.today())
    rid: object = obj.get("id") if isinstance(obj.get("id"), str) else None
    try:
        if isinstance(obj.get("hook"), str):
            rid = obj.get("hookInstance") if isinstance(obj.get("hookInstance"), str) else rid
            walk.hook_request(obj)
        else:
            walk.resource(obj, ROLE_INPUT, "")
        raw = walk.context()
        for key in list(raw):
            try:
                context_from_raw({key: raw[key]})
            except ValueError as exc:
                walk.notes.append(f"{key} {raw.pop(key)} from the input not used: "
                                  f"{str(exc).partition(': ')[2] or exc}")
        ctx = context_from_raw(raw) if raw else None
    except (ValueError, TypeError) as exc:
        return Record(rid, [], line=line, error=str(exc).splitlines()[0])
    if walk.ignored:
        walk.notes.append("not medication orders, ignored: " + ", ".join(
            f"{n} {k}" for k, n in sorted(walk.ignored.items())))
    info = FhirInfo(tuple(e.ref for e in walk.entries), tuple(e.role for e in walk.entries),
                    tuple(walk.skipped), tuple(walk.notes), walk.patient_ref)
    return Record(rid, list(walk.entries), ctx, line, fhir=info)


# -- one resource ------------------------------------------------------------------------------
class Part(NamedTuple):
    """One ingredient of a drug name with its amount per unit of use (``per_ml``: per mL of
    a liquid)."""

    name: str
    amount: float
    unit: str
    per_ml: bool = False


class MedName(NamedTuple):
    """A medication as medref reads it: a name, and the strength, form and formulation of one
    unit when the code or text gives them."""

    name: str
    strength: str | None = None
    form: str | None = None
    formulation: str | None = None
    combination: bool = False
    source: str = ""
    alt: str | None = None
    """Another name to try when ``name`` is not known (the ingredients of a brand)."""
    parts: tuple[Part, ...] = ()
    """Each ingredient and its amount per unit, when the code or text states them."""
    product: str | None = None
    """The canonical id of the product (a product strength code), when known."""
    brand: str | None = None


_RX_COMPONENT = re.compile(
    r"(?P<ing>[A-Za-z][A-Za-z0-9 ,.'()\-]*?)\s+(?P<n>\d+(?:\.\d+)?)\s*"
    r"(?P<u>MG/HR|MCG/HR|MG/MG|MG/ML|MCG/ML|MG/ACTUAT|MCG/ACTUAT|MG|MCG|UNT/ML|UNT|MEQ|%|ML)"
    r"(?![A-Za-z/])",
    re.IGNORECASE)
_RX_HOURS = re.compile(r"\b\d+ HR\b", re.IGNORECASE)
_RX_BRAND = re.compile(r"\[(?P<b>[^\]]+)\]\s*$")
_FORMS: Final = (("transdermal system", "patch"), ("transdermal patch", "patch"),
                 ("patch", "patch"), ("tablet", "tablet"), ("capsule", "capsule"),
                 ("caplet", "caplet"), ("injection", "injection"), ("solution", "solution"),
                 ("suspension", "suspension"), ("topical gel", "gel"), ("gel", "gel"),
                 ("cream", "cream"), ("spray", "spray"), ("suppository", "suppository"))


def _generic(product: Product) -> bool:
    """A generic product line: its id is its ingredients' ids joined by hyphens
    (``hydrocodone-acetaminophen``), not a brand (``norco``)."""
    return product.id in {"-".join(p) for p in itertools.permutations(product.ingredients)}


def parse_rxnorm_name(name: str) -> MedName | None:
    """Read an RxNorm clinical or branded drug name
    (``acetaminophen 325 MG / oxycodone hydrochloride 10 MG Oral Tablet [Percocet]``,
    ``72 HR fentanyl 0.075 MG/HR Transdermal System``) into a :class:`MedName`; None when the
    text is not in that shape."""
    text = clean_text(name).strip()
    brand_m = _RX_BRAND.search(text)
    brand = brand_m.group("b").strip() if brand_m else None
    body = text[:brand_m.start()].strip() if brand_m else text
    er = bool(_RX_HOURS.search(body)) or re.search(r"extended release|sustained release|"
                                                   r"delayed release", body, re.I) is not None
    body = _RX_HOURS.sub(" ", body)
    parts = [p.strip() for p in body.split(" / ")]
    comps: list[tuple[str, float, str]] = []
    tail = ""
    for i, part in enumerate(parts):
        m = _RX_COMPONENT.match(part)
        if m is None:
            return None
        comps.append((m.group("ing").strip(), float(m.group("n")), m.group("u").upper()))
        if i == len(parts) - 1:
            tail = part[m.end():].strip()
    if not comps:
        return None
    form = None
    low = tail.lower()
    for word, f in _FORMS:
        if word in low:
            form = f
            break
    amounts = []
    pieces: list[Part] = []
    for ing, n, u in comps:
        if u in ("MG/HR", "MCG/HR"):
            rate = n * 1000 if u == "MG/HR" else n
            amounts.append(f"{fmt(rate)} mcg/hr")
            pieces.append(Part(ing, rate, "mcg/h"))
        elif u == "MG/MG":
            amounts.append(f"{fmt(round(n * 100, 6))}%")  # 0.01 MG/MG gel is 1 %
            pieces.append(Part(ing, round(n * 100, 6), "%"))
        elif u in ("MG/ML", "MCG/ML"):
            amounts.append(f"{fmt(n)} {u.lower()}")
            pieces.append(Part(ing, n, u[:-3].lower(), per_ml=True))
        else:
            unit = {"UNT": "IU", "MEQ": "mEq", "ML": "mL"}.get(u, u.lower())
            amounts.append(f"{fmt(n)} {unit}")
            pieces.append(Part(ing, n, unit))
    formulation = "ER" if er and form != "patch" else None
    generic = " / ".join(c[0] for c in comps)
    if len(comps) == 1:
        return MedName(brand or comps[0][0], amounts[0], form, formulation, False,
                       "rxnorm name", generic if brand else None, tuple(pieces), brand=brand)
    return MedName(brand or generic, None, form, formulation, True, "rxnorm name",
                   generic if brand else None, tuple(pieces), brand=brand)


def _one_unit(raw: str | None) -> str | None:
    if not raw:
        return None
    u = _UCUM.get(raw.strip().lower())
    if u is not None:
        return u
    u = UNIT_ALIASES.get(normalize(raw))
    if u is not None:
        return u
    low = normalize(raw).rstrip("s")
    for word, form in _FORMS:
        if low == word or low.endswith(" " + word):
            return form if form in COUNT_UNITS or form == "patch" else None
    return None


def _quantity_unit(q: fm.Quantity) -> str | None:
    """The unit of a Quantity: its UCUM ``code`` first, else its ``unit`` text.

    Raises:
        ValueError: the code and the text name different units (``unit`` mcg, ``code`` mg).
    """
    by_code = _one_unit(q.code)
    by_text = _one_unit(q.unit)
    if by_code is not None and by_text is not None and by_code != by_text and \
            "each" not in (by_code, by_text):
        raise ValueError(f"a quantity whose unit {q.unit!r} and code {q.code!r} disagree")
    return by_code or by_text


class _Reader:
    """Reads one :class:`FhirEntry` into a :class:`MedicationLine`."""

    def __init__(self, entry: FhirEntry, lex: Lexicon) -> None:
        self.entry = entry
        self.lex = lex
        self.notes: list[str] = list(entry.notes)
        self.conflicts: list[str] = []

    def error(self, message: str) -> MedicationLine:
        return MedicationLine(text=self.entry.ref, error=f"{self.entry.ref}: {message}",
                              error_part=None)

    def read(self) -> MedicationLine:
        try:
            use = fm.MedicationUse.model_validate(self.entry.resource)
            med = (fm.Medication.model_validate(self.entry.medication)
                   if self.entry.medication is not None else None)
        except ValidationError as exc:
            return self.error(_validation_text(exc))
        self._lenient(use)
        name = self.medication(use, med)
        if name is None:
            return self.error("no medication (medicationCodeableConcept or a resolvable "
                              "medicationReference) to read")
        dosages = use.dosages
        if len(dosages) <= 1:
            return self.line(name, dosages[0] if dosages else None)
        # sequential instructions (different ``sequence``): steps; the heaviest is checked
        notes = list(self.notes)
        best: tuple[float, int, MedicationLine] | None = None
        for k, d in enumerate(dosages, 1):
            self.notes, self.conflicts = list(notes), []
            line = self.line(name, d)
            score = _day_amount(line)
            if best is None or score > best[0]:
                best = (score, k, line)
        assert best is not None
        _, k, line = best
        said = (f"{len(dosages)} dosage instructions in sequence: the heaviest (number {k}) "
                "is checked")
        return line._replace(steps=len(dosages), assumptions=(*line.assumptions, said))

    def _lenient(self, model: fm._Lenient) -> None:
        for note in model.lenient:
            if note not in self.notes:
                self.notes.append(note)

    # medication -----------------------------------------------------------------------------
    def medication(self, use: fm.MedicationUse, med: fm.Medication | None) -> MedName | None:
        name = self._named(use, med)
        parts = _ingredient_parts(med) if med is not None else ()
        if parts and (name is None or (not name.parts and name.product is None)):
            form = med.form.label() if med is not None and med.form is not None else None
            form = next((f for w, f in _FORMS if form and w in form.lower()), None)
            single = parts[0] if len(parts) == 1 else None
            strength = (f"{fmt(single.amount)} {single.unit}" if single is not None
                        and not single.per_ml else None)
            self.notes.append("strength read from the Medication's ingredient list")
            base = name or MedName(" / ".join(pt.name for pt in parts), source="ingredients")
            name = base._replace(parts=parts, combination=len(parts) > 1,
                                 strength=strength or base.strength, form=form or base.form)
        return name

    def _named(self, use: fm.MedicationUse, med: fm.Medication | None) -> MedName | None:
        concept = use.medicationCodeableConcept or (med.code if med is not None else None)
        if concept is not None:
            self._lenient(concept)
            got = self.by_code(concept)
            if got is not None:
                return got
            label = concept.label()
            if label:
                return self.by_text(label)
        if med is not None and med.ingredient:
            labels = [i.itemCodeableConcept.label() for i in med.ingredient
                      if i.itemCodeableConcept is not None]
            names = [n for n in labels if n]
            if names:
                self.notes.append("medication read from its ingredient list")
                return MedName(" / ".join(names), combination=len(names) > 1,
                               source="ingredients")
        ref = use.medicationReference
        if ref is not None and ref.display:
            return self.by_text(ref.display)
        return None

    def by_code(self, concept: fm.CodeableConcept) -> MedName | None:
        codes = self.lex.reference.rxnorm_codes()
        hits = [codes[c] for c in concept.codes(RXNORM) if c in codes]
        if not hits:
            return None
        # the most specific first: a product strength, then a drug name, then an ingredient
        hits.sort(key=lambda h: h.rank)
        hit = hits[0]
        if not hit.verified:
            self.notes.append(f"RxNorm {hit.rxcui} read as {hit.name!r} from a code not "
                              "verified in a source")
        if hit.kind == "rxnorm-name":
            parsed = parse_rxnorm_name(hit.name)
            if parsed is not None:
                return parsed._replace(source=f"RxNorm {hit.rxcui}")
            return MedName(hit.name, source=f"RxNorm {hit.rxcui}")
        return MedName(hit.name, hit.strength, hit.form, hit.formulation,
                       hit.combination, f"RxNorm {hit.rxcui}",
                       product=hit.id if hit.kind == "product" else None)

    def by_text(self, label: str) -> MedName:
        parsed = parse_rxnorm_name(label)
        if parsed is not None:
            return parsed._replace(source="text")
        return MedName(label, source="text")

    # the line -------------------------------------------------------------------------------
    def line(self, name: MedName, dosage: fm.Dosage | None, *, assembled: bool = True
             ) -> MedicationLine:
        lex = self.lex
        resolve = lex.resolve if assembled else lex.reference.names().get
        asked, notes, conflicts = name, len(self.notes), len(self.conflicts)
        combo: tuple[float, ...] | None = None
        generic: list[tuple[str | None, Part]] | None = None
        if name.combination and name.product is None and name.parts:
            ids = [(self._part_id(pt), pt) for pt in name.parts]
            found = self._match_product(ids, name.brand)
            if found is not None:
                prod, strength = found
                name = name._replace(name=prod.name, strength=strength.label, product=prod.id)
            else:
                generic = ids
        if name.product is not None and name.product in lex.kb.products:
            prod = lex.kb.products[name.product]
            st = prod.strength(name.strength or "")
            if len(prod.ingredients) > 1 and st is not None:
                combo = tuple(c.written for c in st.components)
            alias = self._product_name(prod.id)
            nm, pid, rest = (alias, prod.id, "") if alias else split_name(
                normalize(name.name), resolve)
        else:
            nm, pid, rest = "", None, ""
            for cand in _name_candidates(name) if generic is None else []:
                nm, pid, rest = split_name(normalize(cand), resolve)
                if pid is not None:
                    if cand != name.name:
                        name = name._replace(name=cand)
                    break
            if generic is not None:
                first = next((i for i, _ in generic if i is not None), None)
                nm, pid, rest = (first or normalize(name.name)), first, ""
            elif pid is None:
                nm, pid, rest = split_name(normalize(name.name), resolve)
            if pid is None and name.alt and generic is None:
                alt = split_name(normalize(name.alt), resolve)
                if alt[1] is not None:
                    self.notes.append(f"{name.name!r} read as {name.alt!r}: the brand is not "
                                      "on file, its ingredient is")
                    nm, pid, rest = alt
                    name = name._replace(name=name.alt, strength=(
                        name.strength if not name.combination else None))
        if dosage is not None and dosage.text and not _coded(dosage) and generic is None:
            return self.from_text(name, dosage.text)
        p = ParsedLine(text="")
        if not nm:
            return self.error(f"medication name {name.name[:40]!r} not readable")
        p.name, p.product = nm, pid
        p.combo_ok = pid is not None and pid in lex.combos
        p.combo_strengths = lex.combos.get(pid, frozenset()) if pid is not None else frozenset()
        given: set[str] = {"name"}
        words = rest.split(" ") if rest else []
        while words and words[0] in SALT_WORDS:
            words.pop(0)  # "oxycodone hydrochloride": labeled strengths are of the salt
        rest = " ".join(words)
        if rest:
            scan_rest(rest, p, resolve)
        if name.form:
            scan_rest(normalize(name.form), p, resolve)
        if name.formulation and p.formulation is None:
            p.formulation = name.formulation
        units: tuple[float | None, float | None, str | None] = (None, None, None)
        if dosage is not None:
            self._lenient(dosage)
            if generic is not None:
                units = self.count(name, dosage, p)
            else:
                self.dose(p, name, dosage, given, combo)
            self.timing(p, dosage, given)
            self.as_needed(p, dosage, given)
            self.route(p, dosage, given)
            self.caps(p, dosage)
        else:
            self.notes.append("no dosage instruction")
            if combo is not None:
                p.combo = combo
        finish(p)
        if assembled and generic is None and unconfirmed_combination(p, lex):
            # a combination assembled from ingredients' names that nothing confirms: read as
            # a sig line reads it (the first name, the rest not understood)
            del self.notes[notes:], self.conflicts[conflicts:]
            return self.line(asked, dosage, assembled=False)
        text = self.render(name, p, dosage)
        p.text = text
        line = line_from_parsed(p, text, lex, frozenset(given))
        if generic is not None:
            line = self.generic_combination(line, name, generic, units)
        if dosage is not None and dosage.text:
            if not line.readable or line.dose is None or line.frequency is None:
                told = self.from_text(name, dosage.text, coded=line)
                if told.readable and told.dose is not None and told.frequency is not None:
                    return told
            self.cross_check(name, dosage.text, line)
        return line._replace(
            assumptions=line.assumptions + tuple(n for n in self.notes if n),
            conflicts=tuple(self.conflicts))

    def from_text(self, name: MedName, text: str, coded: MedicationLine | None = None
                  ) -> MedicationLine:
        """The order read from ``dosage.text`` (the coded fields give no dose or no timing);
        what the coded fields do give is compared with it (MR013)."""
        head = name.name + (f" {name.strength}" if name.strength else "")
        line = read_sig(f"{head} {clean_text(text)}", self.lex)
        if coded is None:
            self.notes.append("no coded dose or timing: the dosage was read from its text")
        else:
            self.notes.append("the coded dosage gives no " + (
                "dose" if coded.dose is None else "timing") + ": the dosage was read from its "
                "text")
            if coded.readable and line.readable:
                a, b = _per_dose(line), _per_dose(coded)
                for ing in a.keys() & b.keys():
                    if a[ing][1] == b[ing][1] and abs(a[ing][0] - b[ing][0]) > 1e-6 * max(
                            a[ing][0], b[ing][0]):
                        self.conflicts.append(f"the text gives {fmt(a[ing][0])} {a[ing][1]} "
                                              f"of {ing} a dose, the coded dose "
                                              f"{fmt(b[ing][0])} {b[ing][1]}")
                fa, fb = line.frequency, coded.frequency
                if fa is not None and fb is not None and fa.per_day_max != fb.per_day_max:
                    self.conflicts.append(f"the text gives up to {fa.per_day_max} doses a "
                                          f"day, the coded timing {fb.per_day_max}")
        return line._replace(assumptions=line.assumptions + tuple(self.notes),
                             conflicts=tuple(self.conflicts))

    # combinations -----------------------------------------------------------------------------
    def _part_id(self, part: Part) -> str | None:
        pid = split_name(normalize(part.name), self.lex.resolve)[1]
        return pid if pid in self.lex.kb.ingredients else None

    def _product_name(self, pid: str) -> str | None:
        """A name of the index that stands for product ``pid`` (so the product is read)."""
        ref = self.lex.reference
        prod = self.lex.kb.products[pid]
        for cand in (normalize(prod.name), normalize(pid), *(normalize(a) for a in
                                                             ref.products[pid].get("aliases",
                                                                                   ()))):
            info = ref.name_info(cand)
            if info is not None and info.product == pid:
                return cand
        return None

    def _match_product(self, ids: list[tuple[str | None, Part]], brand: str | None
                       ) -> tuple[Any, Any] | None:
        """The product and strength whose ingredients and amounts are these parts' (the
        brand's product first; with no brand, the generic product before the brands, so a
        generic name is not shown as a brand); None when no product on file has them."""
        if any(i is None for i, _ in ids):
            return None
        want = {i: pt.amount for i, pt in ids if i is not None}
        kb = self.lex.kb
        cands = []
        bid = self.lex.resolve(normalize(brand)) if brand else None
        if bid is not None and bid in kb.products:
            cands.append(kb.products[bid])
        others = [pr for pid, pr in kb.products.items() if pid != bid]
        cands += others if bid is not None else sorted(others, key=lambda pr: not _generic(pr))
        for prod in cands:
            if set(prod.ingredients) != set(want) or any(pt.per_ml for _, pt in ids):
                continue
            for st in prod.strengths:
                if all(abs(c.written - want[c.ingredient]) <= 0.01 * c.written
                       for c in st.components):
                    if prod.id != bid and bid is not None and bid in kb.products:
                        self.notes.append(f"{brand} {'/'.join(fmt(pt.amount) for _, pt in ids)}"
                                          f" read as {prod.name} {st.label}")
                    return prod, st
            if prod.id == bid:
                amounts = "/".join(fmt(pt.amount) for _, pt in ids)
                self.notes.append(f"{prod.name} strength {amounts} is not on file: read by "
                                  "its ingredients")
        return None

    def count(self, name: MedName, d: fm.Dosage, p: ParsedLine
              ) -> tuple[float | None, float | None, str | None]:
        """Units of use a dose of a combination read by its ingredients: a count of tablets
        (or each), or mL of a liquid whose parts are per mL."""
        q = self._dose_quantity(d)
        form = name.form if name.form in COUNT_UNITS else None
        if q is None or q[0].value is None:
            self.notes.append(f"no dose: 1 {form or 'unit'} a dose assumed")
            return 1.0, None, form
        lo, hi = q
        unit = _quantity_unit(lo)
        top = hi.value if hi is not None else None
        liquid = all(pt.per_ml for pt in name.parts)
        if unit == "mL" and liquid:
            return lo.value, top, "mL"
        if unit in COUNT_UNITS or unit == "each" or unit == "patch":
            return lo.value, top, form or (unit if unit != "each" else None)
        p.problems.append(f"dose {fmt(lo.value or 0)} {lo.unit or lo.code or ''} of a "
                          "combination product: a count of units (or mL of a liquid) is "
                          "needed to know each ingredient's amount")
        return None, None, None

    def generic_combination(self, line: MedicationLine, name: MedName,
                            ids: list[tuple[str | None, Part]],
                            units: tuple[float | None, float | None, str | None]
                            ) -> MedicationLine:
        """A combination not on file, read by its ingredients: each known ingredient's
        amount per unit times the units a dose (so every ingredient counts in its totals)."""
        lo, hi, unit_of_use = units
        unknown = tuple(pt.name for i, pt in ids if i is None)
        ings = []
        for i, pt in ids:
            if i is None:
                continue
            info = self.lex.reference.name_info(normalize(pt.name))
            k = info.base_per_salt if info is not None and info.base_per_salt else 1.0
            amount = pt.amount * k
            ings.append(IngredientDose(i, None if lo is None else amount * lo,
                                       None if hi is None else amount * hi, pt.unit))
        label = " / ".join(f"{pt.name} {fmt(pt.amount)} {pt.unit}"
                           + ("/mL" if pt.per_ml else "") for _, pt in ids)
        self.notes.append(f"{name.name} is not a product on file: read by its ingredients "
                          f"({label})")
        return line._replace(ingredients=tuple(ings), units=lo, units_max=hi,
                             unit_of_use=unit_of_use, dose=lo, dose_max=hi,
                             unit=unit_of_use or "unit", marketed=None,
                             unparsed=line.unparsed + unknown, strength_label=None)

    def _dose_quantity(self, d: fm.Dosage) -> tuple[fm.Quantity, fm.Quantity | None] | None:
        """The dose (low, high) of a Dosage: an ``ordered`` doseAndRate first."""
        lo: fm.Quantity | None = None
        hi: fm.Quantity | None = None
        chosen: fm.DoseAndRate | None = None
        for dr in d.doseAndRate:
            self._lenient(dr)
            if dr.doseQuantity is not None or dr.doseRange is not None:
                kind = dr.type.codes("dose-rate-type") if dr.type is not None else []
                if chosen is None or "ordered" in kind:
                    chosen = dr
        if chosen is not None:
            if chosen.doseQuantity is not None:
                lo = chosen.doseQuantity
            elif chosen.doseRange is not None:
                lo, hi = chosen.doseRange.low, chosen.doseRange.high
        elif d.doseQuantity is not None or d.doseRange is not None:
            self.notes.append("doseQuantity on the Dosage itself (STU3 shape); read as "
                              "doseAndRate")
            if d.doseQuantity is not None:
                lo = d.doseQuantity
            elif d.doseRange is not None:
                lo, hi = d.doseRange.low, d.doseRange.high
        if lo is None and hi is not None:
            lo, hi = hi, None
            self.notes.append("dose range without a low value: the high value is the dose")
        return None if lo is None else (lo, hi)

    def dose(self, p: ParsedLine, name: MedName, d: fm.Dosage, given: set[str],
             combo: tuple[float, ...] | None = None) -> None:
        q = self._dose_quantity(d)
        lo, hi = q if q is not None else (None, None)
        if lo is None or lo.value is None:
            if combo is not None:
                p.combo = combo
            elif name.strength and name.combination:
                scan_rest(normalize(name.strength), p, self.lex.resolve)
            return
        if not _finite(lo.value) or (hi is not None and hi.value is not None
                                     and not _finite(hi.value)):
            p.problems.append("a dose that is not a finite number")
            return
        unit = _quantity_unit(lo)
        if unit is None:
            p.problems.append(f"dose unit {lo.unit or lo.code or '(none)'!r} not understood")
            return
        if unit == "mL" and len(name.parts) == 1 and name.parts[0].per_ml:
            part = name.parts[0]  # 40 mL of 20 mg/mL: 800 mg
            conc = part.amount
            self.notes.append(f"{fmt(lo.value)} mL of {fmt(conc)} {part.unit}/mL = "
                              f"{fmt(lo.value * conc)} {part.unit}")
            top = hi.value * conc if hi is not None and hi.value is not None else None
            problem = add_amount(p, lo.value * conc, top, part.unit,
                                 f"{fmt(lo.value * conc)} {part.unit}")
            if problem:
                p.problems.append(problem)
            given.update(("dose", "unit"))
            return
        top = None
        if hi is not None and hi.value is not None:
            if _quantity_unit(hi) != unit:
                p.problems.append("dose range with two different units")
                return
            top = hi.value
        counted = unit in COUNT_UNITS or unit in ("patch", "each")
        if counted and combo is not None:
            p.combo = combo
        elif counted and name.strength:
            scan_rest(normalize(name.strength), p, self.lex.resolve)
        elif not counted and name.strength:
            self._strength_note(name, lo.value, top, unit)
        written = fmt(lo.value) + (f"-{fmt(top)}" if top is not None else "") + f" {unit}"
        if unit == "each" and (p.dose is not None or p.combo is not None):
            unit = name.form if name.form in COUNT_UNITS else "tablet"
        problem = add_amount(p, lo.value, top, unit, written)
        if problem:
            p.problems.append(problem)
        given.update(("dose", "unit"))

    def _strength_note(self, name: MedName, lo: float, hi: float | None, unit: str) -> None:
        m = re.match(r"^(\d+(?:\.\d+)?) (mg|mcg|g)$", name.strength or "")
        if m is None or m.group(2) != unit:
            return
        per = float(m.group(1))
        worst = hi if hi is not None else lo
        if per > 0 and abs(worst / per - round(worst / per)) > 1e-6:
            what = "an extended-release unit (which must not be split)" if \
                name.formulation == "ER" else "a unit"
            self.notes.append(f"the order doses {fmt(worst)} {unit} of {what} of "
                              f"{fmt(per)} {unit}; checked as {fmt(worst)} {unit} a dose")

    def timing(self, p: ParsedLine, d: fm.Dosage, given: set[str]) -> None:
        t = d.timing
        if t is None:
            return
        self._lenient(t)
        r = t.repeat
        freq: Frequency | None = None
        if r is not None:
            self._lenient(r)
            freq = self._repeat(r, p)
            if r.count is not None and r.count > 0:
                p.duration_doses = r.count
                given.add("duration_doses")
            days = _bounds_days(r)
            if days is not None:
                p.duration_days = days
                given.add("duration_days")
        if freq is None and t.event:
            freq = _events(t.event)
            if freq is not None:
                self.notes.append(f"frequency read from timing.event ({len(t.event)} "
                                  "times)")
        if t.code is not None:
            words = t.code.codes("GTSAbbreviation") + [c.code for c in t.code.coding
                                                        if c.code and not c.system]
            text = " ".join(words) or (t.code.text or "") or " ".join(
                c.display for c in t.code.coding if c.display)
            if text:
                q = ParsedLine(text=text)
                scan_rest(normalize(text), q, self.lex.resolve)
                coded = q.frequency
                if freq is None and coded is not None:
                    freq = coded
                    self.notes.append(f"frequency read from timing.code {text!r}")
                elif freq is None and not q.problems:
                    self.notes.append(f"timing.code {text!r} not understood")
                elif coded is not None and freq is not None and \
                        coded.per_day_max != freq.per_day_max:
                    self.conflicts.append(f"timing.code {text!r} gives up to "
                                          f"{coded.per_day_max} doses a day, timing.repeat "
                                          f"{freq.per_day_max}: the higher is checked")
                    if coded.per_day_max > freq.per_day_max:
                        freq = coded
        if freq is not None:
            p.frequency = freq
            given.add("frequency")

    def _repeat(self, r: fm.Repeat, p: ParsedLine) -> Frequency | None:
        slots = len(r.timeOfDay) + sum(_MEALS.get(w, 1) for w in r.when
                                       if w in _WHEN_ONCE)
        if r.period is None and r.frequency is None:
            if slots:
                what = "timeOfDay" if r.timeOfDay else "when"
                return Frequency(text=f"{slots} time{'s' if slots > 1 else ''} a day ({what})",
                                 count_min=slots,
                                 count_max=slots, bedtime="HS" in r.when)
            if r.count == 1:
                return Frequency(text="once", once=True)
            return None
        if r.period is not None and r.periodUnit is None:
            p.problems.append("timing.repeat.period without periodUnit (hours? days?)")
            return None
        unit = _PERIOD_UNITS.get((r.periodUnit or "d").strip(),
                                 _PERIOD_UNITS.get((r.periodUnit or "").strip().lower()))
        if unit is None:
            p.problems.append(f"periodUnit {r.periodUnit!r} not understood")
            return None
        if unit != r.periodUnit:
            self.notes.append(f"periodUnit {r.periodUnit!r} read as {unit!r}")
        period = r.period if r.period is not None else 1.0
        freq = r.frequency if r.frequency is not None else 1
        fmax = r.frequencyMax if r.frequencyMax is not None else freq
        pmax = r.periodMax if r.periodMax is not None else period
        hours = period * _PERIOD_HOURS[unit] if _finite(period) else 0.0
        if (not _finite(period) or not _finite(pmax) or period <= 0 or freq <= 0
                or fmax < freq or pmax < period or fmax > 10_000
                or hours / fmax < 1 / 60):
            p.problems.append(f"impossible timing (frequency {freq}, period {period:g} "
                              f"{unit})")
            return None
        text = _timing_text(freq, fmax, period, pmax, unit)
        if slots and hours == 24 and slots != fmax:
            self.conflicts.append(f"timing gives {fmax} a day but names {slots} times of day: "
                                  "the higher is checked")
            if slots > fmax:
                freq = fmax = slots
                text = f"{slots} times a day (timeOfDay/when)"
        if hours < 24 and freq == fmax:
            # every N hours (or N times an hour): an interval, the shortest the worst
            return Frequency(text=text, interval_min_h=hours / freq,
                             interval_max_h=pmax * _PERIOD_HOURS[unit] / freq)
        days = hours / 24
        if days < 1:
            count_max = fmax * (24 / hours)
            return Frequency(text=text, count_min=freq * 24 / (pmax * _PERIOD_HOURS[unit]),
                             count_max=count_max)
        if r.dayOfWeek and days <= 1:
            n = len(set(r.dayOfWeek))
            if fmax == 1:
                return Frequency(text=text + f" on {n} days a week", count_min=n,
                                 count_max=n, window_days=7)
        return Frequency(text=text, count_min=freq * period / pmax, count_max=fmax,
                         window_days=days, bedtime="HS" in r.when)

    def as_needed(self, p: ParsedLine, d: fm.Dosage, given: set[str]) -> None:
        if d.asNeededBoolean:
            p.prn = True
            given.add("prn")
        elif d.asNeededCodeableConcept is not None:
            p.prn = True
            p.prn_reason = d.asNeededCodeableConcept.label()
            given.update(("prn", "prn_reason") if p.prn_reason else ("prn",))

    def route(self, p: ParsedLine, d: fm.Dosage, given: set[str]) -> None:
        if d.route is None:
            return
        self._lenient(d.route)
        for code in d.route.codes("snomed.info/sct"):
            if code in ROUTE_SNOMED:
                p.route = ROUTE_SNOMED[code]
                given.add("route")
                return
        label = d.route.label()
        if label:
            before = p.route
            scan_rest(normalize(label), p, self.lex.resolve)
            if p.route is None or p.route == before:
                self.notes.append(f"route {label!r} not understood; the product's default "
                                  "route is used")
                if p.unparsed and p.unparsed[-1] in normalize(label):
                    p.unparsed.pop()
            else:
                given.add("route")

    def caps(self, p: ParsedLine, d: fm.Dosage) -> None:
        cap = d.maxDosePerPeriod
        if cap is not None and cap.numerator is not None and cap.numerator.value is not None:
            unit = _quantity_unit(cap.numerator)
            den = cap.denominator
            hours = None
            if den is not None and den.value is not None:
                du = (den.code or den.unit or "").strip().lower().rstrip("s")
                du = {"day": "d", "hour": "h", "hr": "h", "week": "wk"}.get(du, du)
                if du in _PERIOD_HOURS:
                    hours = den.value * _PERIOD_HOURS[du]
            text = (f"max {fmt(cap.numerator.value)} {cap.numerator.unit or unit or ''} per "
                    + (f"{fmt(den.value)} {den.unit or den.code}" if den is not None
                       and den.value is not None else "period")).replace("  ", " ")
            if unit is None:
                self.notes.append(f"maxDosePerPeriod {text!r}: unit not understood; not used")
            elif hours is not None and abs(hours - 24) < 1e-9:
                if unit in COUNT_UNITS or unit == "patch":
                    p.cap_units, p.cap_unit = cap.numerator.value, unit
                else:
                    p.cap_amount, p.cap_amount_unit = cap.numerator.value, unit
                p.cap_text, p.cap_per_day = text, True
            else:
                p.cap_text, p.cap_per_day = text, False
                if unit in COUNT_UNITS or unit == "patch":
                    p.cap_units, p.cap_unit = cap.numerator.value, unit
                else:
                    p.cap_amount, p.cap_amount_unit = cap.numerator.value, unit
        if d.maxDosePerAdministration is not None and d.maxDosePerAdministration.value:
            q = d.maxDosePerAdministration
            p.notes.append(f"maxDosePerAdministration {fmt(q.value or 0)} {q.unit or q.code}")

    # text -----------------------------------------------------------------------------------
    def render(self, name: MedName, p: ParsedLine, d: fm.Dosage | None) -> str:
        parts = [name.name]
        if name.strength and not name.name.endswith(name.strength):
            parts.append(name.strength)
        if p.count is not None and p.count_unit:
            parts.append(f"{fmt(p.count)}" + (f"-{fmt(p.count_max)}" if p.count_max else "")
                         + f" {p.count_unit}")
        elif p.dose is not None and p.unit:
            if name.strength and parts[-1] == name.strength and \
                    not name.strength.endswith("%"):
                parts[-1] = f"({name.strength} units)"
            parts.append(f"{fmt(p.dose)}" + (f"-{fmt(p.dose_max)}" if p.dose_max else "")
                         + f" {p.unit}")
        if p.route:
            parts.append(p.route)
        if p.frequency is not None:
            parts.append(p.frequency.text)
        if p.prn:
            parts.append("prn" + (f" {p.prn_reason}" if p.prn_reason else ""))
        if p.duration_days is not None:
            parts.append(f"for {fmt(p.duration_days)} days")
        return clean_text(" ".join(parts))

    def cross_check(self, name: MedName, text: str, coded: MedicationLine) -> None:
        """Compare ``dosage.text`` with the coded dosage: the amount a dose and the doses a
        day, where both state them. A text medref cannot read in full is not compared."""
        if not coded.readable or coded.problems:
            return
        heads = [name.name + (f" {name.strength}" if name.strength else ""), name.name]
        said: MedicationLine | None = None
        for head in dict.fromkeys(heads):
            got = read_sig(f"{head} {text}", self.lex)
            if got.readable and not got.problems and not got.unparsed \
                    and not got.strength_assumed and got.product == coded.product:
                said = got
                break
        if said is None:
            return
        a = _per_dose(said)
        b = _per_dose(coded)
        for ing in a.keys() & b.keys():
            (x, ux), (y, uy) = a[ing], b[ing]
            if ux == uy and abs(x - y) > 1e-6 * max(x, y):
                self.conflicts.append(f"the text gives {fmt(x)} {ux} of {ing} a dose, the "
                                      f"coded dose {fmt(y)} {uy}")
        fa, fb = said.frequency, coded.frequency
        if fa is not None and fb is not None and fa.per_day_max != fb.per_day_max:
            self.conflicts.append(f"the text gives up to {fa.per_day_max} doses a day "
                                  f"({fa.text}), the coded timing {fb.per_day_max}")
        if said.prn != coded.prn and said.frequency is not None:
            self.conflicts.append("the text says " + ("as needed" if said.prn else
                                                      "scheduled") + ", the coded dosage "
                                  + ("as needed" if coded.prn else "scheduled"))


_UNIT_WORDS: Final = {"s": "second", "min": "minute", "h": "hour", "d": "day", "wk": "week",
                      "mo": "month", "a": "year"}


def _timing_text(freq: int, fmax: int, period: float, pmax: float, unit: str) -> str:
    """``every 4-6 hours``, ``3 times a day``, ``once every 3 days``."""
    word = _UNIT_WORDS[unit]
    span = fmt(period) + (f"-{fmt(pmax)}" if pmax != period else "")
    times = {1: "once", 2: "twice"}.get(fmax, f"{fmax} times") if fmax == freq else \
        f"{freq}-{fmax} times"
    if freq == fmax == 1:
        return f"every {span} {word}s" if span != "1" else f"once a {word}"
    if span == "1":
        return f"{times} a {word}"
    return f"{times} every {span} {word}s"


TOPICAL_FORMS: Final = frozenset({"gel", "cream", "patch", "spray", "solution"})


def _name_candidates(name: MedName) -> list[str]:
    """Names to try, most specific first: a topical form picks the topical product
    (``Voltaren`` gel is topical diclofenac, not the Voltaren tablet)."""
    out = []
    if name.form in TOPICAL_FORMS:
        for base in (name.name, name.alt):
            if base:
                out += [f"{base} {name.form}", f"{base} topical"]
    out.append(name.name)
    return out


def _events(events: list[str]) -> Frequency | None:
    """Explicit administration times (``timing.event``): the most on one day."""
    per_day: dict[str, int] = {}
    for e in events:
        if isinstance(e, str) and len(e) >= 10:
            per_day[e[:10]] = per_day.get(e[:10], 0) + 1
    if not per_day:
        return None
    n = max(per_day.values())
    return Frequency(text=f"{n} time{'s' if n > 1 else ''} a day (timing.event)", count_min=n,
                     count_max=n)


def _day_amount(line: MedicationLine) -> float:
    """A rough worst-case amount a day over a line's ingredients (to pick the heaviest of
    sequential steps; the checks then use the exact figures)."""
    n = line.frequency.per_day_max if line.frequency is not None else 1
    return sum((i.worst or 0.0) * n for i in line.ingredients)


def _ingredient_parts(med: fm.Medication) -> tuple[Part, ...]:
    """The parts a Medication's ``ingredient`` list states (name and strength Ratio: mg per
    tablet, mg per mL); empty unless every active ingredient has a readable strength."""
    out = []
    for ing in med.ingredient:
        if ing.isActive is False:
            continue
        label = ing.itemCodeableConcept.label() if ing.itemCodeableConcept else None
        st = ing.strength
        if not label or st is None or st.numerator is None or st.numerator.value is None:
            return ()
        unit = _one_unit(st.numerator.code) or _one_unit(st.numerator.unit)
        den = st.denominator
        per = _one_unit(den.code) or _one_unit(den.unit) if den is not None else None
        dv = den.value if den is not None and den.value else 1.0
        if unit not in ("mg", "mcg", "g", "IU") or not _finite(st.numerator.value):
            return ()
        amount = st.numerator.value / dv
        if unit == "g":
            amount, unit = amount * 1000, "mg"
        out.append(Part(label, amount, unit, per_ml=per == "mL"))
    return tuple(out)


def _finite(x: float) -> bool:
    return math.isfinite(x) and abs(x) < 1e9


def _coded(d: fm.Dosage) -> bool:
    """True when a Dosage codes a dose, a timing or a PRN (beyond its text)."""
    t = d.timing
    timed = t is not None and (t.code is not None or (t.repeat is not None and (
        t.repeat.frequency is not None or t.repeat.period is not None
        or bool(t.repeat.timeOfDay) or bool(t.repeat.when))))
    return bool(d.doseAndRate or d.doseQuantity or d.doseRange or timed
                or d.asNeededBoolean is not None or d.asNeededCodeableConcept is not None)


def _per_dose(line: MedicationLine) -> dict[str, tuple[float, str]]:
    out: dict[str, tuple[float, str]] = {}
    for ing in line.ingredients:
        if ing.worst is not None and ing.unit is not None and ing.unit != "each":
            out[ing.ingredient] = (ing.worst, ing.unit)
    return out


def _bounds_days(r: fm.Repeat) -> float | None:
    if r.boundsDuration is not None and r.boundsDuration.value is not None:
        unit = (r.boundsDuration.code or r.boundsDuration.unit or "d").strip().lower()
        unit = {"day": "d", "days": "d", "week": "wk", "weeks": "wk", "hour": "h",
                "hours": "h", "month": "mo", "months": "mo"}.get(unit, unit)
        if unit in _DAYS and r.boundsDuration.value > 0:
            return r.boundsDuration.value * _DAYS[unit]
    if r.boundsPeriod is not None and r.boundsPeriod.start and r.boundsPeriod.end:
        try:
            a = _dt.date.fromisoformat(r.boundsPeriod.start[:10])
            b = _dt.date.fromisoformat(r.boundsPeriod.end[:10])
        except ValueError:
            return None
        if b > a:
            return float((b - a).days)
    return None


def _validation_text(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ()) if x != "_medref_lenient")
    return f"{where or 'resource'}: {err.get('msg', 'invalid')}"


def read_entry(entry: FhirEntry, lex: Lexicon) -> MedicationLine:
    """Read one medication resource (never raises: an unreadable one has ``error`` set)."""
    try:
        return _Reader(entry, lex).read()
    except (ValueError, TypeError, OverflowError) as exc:
        return MedicationLine(text=entry.ref, error=f"{entry.ref}: {str(exc)[:120]}")
