"""Dispensing claims: a member id, a fill date, a drug description (or NDC), a quantity and a
days' supply, read into per-day :class:`~medref.regimen.MedicationLine` items.

A claim says how much was dispensed for how long, not how it is taken: the amount a day is
``quantity x strength per unit / days' supply`` (for a transdermal patch, the patches worn
at once: each worn 72 hours, or 7 days for buprenorphine), and the line is marked
``per_day`` so per-dose checks do not apply.
The drug is read by the product layer (the same reader as FHIR orders): a description such as
``HYDROCODONE-ACETAMINOPHEN 10-325 MG TAB`` or ``PERCOCET 10-325 MG TAB`` becomes the
product and every ingredient's amount.
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple, TextIO

from medref.readers.fhir import read_entry
from medref.readers.lines import Lexicon
from medref.readers.ndc import ndc_description, normalize_ndc
from medref.regimen import ROLE_INPUT, FhirEntry, Frequency, MedicationLine

CLAIM_COLUMNS = ("member_id", "fill_date", "ndc", "drug", "quantity", "days_supply")
"""The columns of a claims file (``ndc`` or ``drug`` may be empty, not both)."""

_FORM_WORDS = {"TAB": "Oral Tablet", "TABS": "Oral Tablet", "TABLET": "Oral Tablet",
               "TB": "Oral Tablet", "CAP": "Oral Capsule", "CAPS": "Oral Capsule",
               "CAPSULE": "Oral Capsule", "PATCH": "Transdermal System",
               "PT72": "Transdermal System", "SOLN": "Oral Solution", "SOL": "Oral Solution",
               "LIQ": "Oral Solution", "SUSP": "Oral Suspension", "GEL": "Topical Gel"}
_DESC = re.compile(
    r"^(?P<names>[A-Za-z][A-Za-z0-9 .,'()&/\-]*?)\s+"
    r"(?P<amts>\d+(?:\.\d+)?(?:\s*[-/]\s*\d+(?:\.\d+)?)*)\s*"
    r"(?P<unit>MG/ML|MCG/HR|MCG/H|MG|MCG|G|%)\b\s*(?P<rest>.*)$", re.IGNORECASE)
_AMOUNT = re.compile(r"\d\s*(?:MG|MCG|G|ML|%)\b", re.IGNORECASE)
_ER = re.compile(r"\b(ER|XR|SR|CR|XL|ER12|ER24|24HR|12HR)\b", re.IGNORECASE)


class Claim(NamedTuple):
    """One dispensing claim, read.

    Attributes:
        member: the member id.
        fill: the fill date (the first day of supply).
        days: days' supply (the supply covers ``fill`` .. ``fill + days - 1``).
        quantity: units dispensed.
        drug: the drug as written (description, or the NDC).
        line: the per-day line checked for each day of supply.
        row: the 1-based row of the claim in its file (the header is row 1).
    """

    member: str
    fill: _dt.date
    days: int
    quantity: float
    drug: str
    line: MedicationLine
    row: int

    @property
    def end(self) -> _dt.date:
        """The last day of supply."""
        return self.fill + _dt.timedelta(days=self.days - 1)

    def covers(self, day: _dt.date) -> bool:
        """True when ``day`` is a day of this claim's supply."""
        return self.fill <= day <= self.end


class ClaimError(NamedTuple):
    """A claim row that could not be read."""

    member: str | None
    row: int
    error: str


def _rxnorm_style(desc: str) -> tuple[str, bool, bool] | None:
    """``HYDROCODONE-ACETAMINOPHEN 10-325 MG TAB`` as an RxNorm-style name
    (``hydrocodone 10 MG / acetaminophen 325 MG Oral Tablet``), whether it names one brand
    with a combination strength (``PERCOCET 10-325``), and whether it is a patch."""
    m = _DESC.match(desc.strip())
    if m is None:
        return None
    if m.group("rest").lstrip().startswith("/") or _AMOUNT.search(m.group("rest")):
        return None  # already an RxNorm-style name ("A 325 MG / B 10 MG Oral Tablet")
    names = [n.strip() for n in re.split(r"\s*[-/]\s*", m.group("names")) if n.strip()]
    amounts = [a.strip() for a in re.split(r"\s*[-/]\s*", m.group("amts"))]
    unit = m.group("unit").upper()
    rest = m.group("rest").upper().split()
    form = next((_FORM_WORDS[w] for w in rest if w in _FORM_WORDS), "")
    patch = form == "Transdermal System" or unit in ("MCG/HR", "MCG/H")
    er = " 12 HR Extended Release" if _ER.search(m.group("rest")) and not patch else ""
    if patch:
        unit, form = "MCG/HR", "Transdermal System"
    if len(names) == len(amounts):
        parts = " / ".join(f"{n.lower()} {a} {unit}" for n, a in zip(names, amounts,
                                                                        strict=True))
        return f"{parts}{er} {form}".strip(), False, patch
    if len(names) == 1 and len(amounts) > 1:
        return f"{names[0].title()} {'/'.join(amounts)}", True, patch
    return None


def _wear_days(name: str) -> int:
    """Days one opioid patch is worn: buprenorphine (Butrans) 7 ("Each Butrans patch is
    intended to be worn for 7 days", label dosage, source ``c-butrans-dosage``); fentanyl and
    the rest 72 hours (CDC: one patch per 3 days)."""
    return 7 if "buprenorphine" in name.lower() or "butrans" in name.lower() else 3


def read_claim(row: Mapping[str, str], n: int, lex: Lexicon) -> Claim | ClaimError:
    """One claims row (columns :data:`CLAIM_COLUMNS`; never raises)."""
    member = (row.get("member_id") or "").strip()
    if not member:
        return ClaimError(None, n, "column 'member_id': empty")
    try:
        fill = _dt.date.fromisoformat((row.get("fill_date") or "").strip())
    except ValueError:
        return ClaimError(member, n, f"column 'fill_date': not a date (YYYY-MM-DD): "
                          f"{(row.get('fill_date') or '')[:20]!r}")
    try:
        quantity = float((row.get("quantity") or "").strip())
        days = int((row.get("days_supply") or "").strip())
    except ValueError:
        return ClaimError(member, n, "columns 'quantity' and 'days_supply': numbers needed")
    if not math.isfinite(quantity) or quantity <= 0 or quantity > 1e6:
        return ClaimError(member, n, "column 'quantity': must be above 0")
    if not 1 <= days <= 366:
        return ClaimError(member, n, "column 'days_supply': must be 1-366 days")
    drug = (row.get("drug") or "").strip()
    ndc = (row.get("ndc") or "").strip()
    assumed: str | None = None
    if drug:
        styled = _rxnorm_style(drug)
        name, patch = (drug, False) if styled is None else (styled[0], styled[2])
    else:
        if not ndc:
            return ClaimError(member, n, "columns 'drug' and 'ndc': both empty (give the "
                              "drug description or its NDC)")
        code = normalize_ndc(ndc)
        if code is None:
            return ClaimError(member, n, f"column 'ndc': {ndc[:20]!r} is not an NDC (11 "
                              "digits, or hyphenated 5-4-2, 4-4-2, 5-3-2 or 5-4-1)")
        product = lex.reference.ndc_product(code)
        if product is None:
            return ClaimError(member, n, f"column 'ndc': NDC {code} is not in the NDC file "
                              "(CDC 2018: opioids, benzodiazepines and muscle relaxants); "
                              "give the drug description")
        name, assumed = ndc_description(lex.reference, product)
        patch = product.unit == "MCG/HR" or product.form.startswith("Patch")
        drug = f"NDC {code} {product.name}"
    per_day = quantity / days
    unit = "{patch}" if patch else "{each}"
    note = f"claim: {quantity:g} units over {days} days = {per_day:.4g} a day"
    if patch:  # the patches worn at once: how many a day x the days each is worn
        wear = _wear_days(name)
        per_day = quantity * wear / days
        note = (f"claim: {quantity:g} patches over {days} days, each worn "
                f"{'7 days (Butrans label)' if wear == 7 else '72 hours'} = "
                f"{per_day:.4g} worn at once")
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest", "id": f"claim-{n}", "status": "active",
        "medicationCodeableConcept": {"text": name},
        "dosageInstruction": [{
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": per_day, "code": unit}}]}]}
    line = read_entry(FhirEntry(resource, None, f"claim row {n}", ROLE_INPUT, (note,)), lex)
    freq = Frequency(text="a day (claim)")
    line = line._replace(text=f"{drug} (qty {quantity:g}, {days} days)", per_day=True,
                         frequency=freq if line.readable else None, duration_days=float(days),
                         prn=False)
    if assumed is not None:
        line = line._replace(strength_assumed=True, strength_label=assumed)
    return Claim(member, fill, days, quantity, drug, line, n)


def _columns(found: Iterable[str], name: str) -> list[str]:
    cols = [c.strip().lower() for c in found]
    for need in ("member_id", "fill_date", "quantity", "days_supply"):
        if need not in cols:
            raise ValueError(f"{name or 'claims'}: column {need!r} missing (expected "
                             f"{', '.join(CLAIM_COLUMNS)})")
    if "drug" not in cols and "ndc" not in cols:
        raise ValueError(f"{name or 'claims'}: column 'drug' (or 'ndc') missing")
    return cols


def iter_claims(stream: TextIO, lex: Lexicon, name: str = "") -> Iterator[Claim | ClaimError]:
    """Every row of a claims CSV, in order (``row`` is the CSV line: the header is line 1).

    Raises:
        ValueError: the header lacks a required column (naming it).
    """
    reader = csv.DictReader(stream)
    reader.fieldnames = _columns(reader.fieldnames or [], name)
    for n, row in enumerate(reader, 2):
        yield read_claim(row, n, lex)


def _cell(column: str, value: object) -> str:
    """A typed Parquet cell as the text a CSV would hold: dates as YYYY-MM-DD, whole numbers
    without a decimal point, an NDC stored as a number with its leading zeros back."""
    if value is None:
        return ""
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value).zfill(11) if column == "ndc" and 0 <= value < 10**11 else str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value)).zfill(11) if column == "ndc" else str(int(value))
    return str(value)


def iter_claims_parquet(path: str, lex: Lexicon, name: str = "",
                        batch_rows: int = 65_536) -> Iterator[Claim | ClaimError]:
    """Every row of a claims Parquet file, in order: the columns of
    :data:`CLAIM_COLUMNS`, typed or text (``row`` is the 1-based row number). Read a batch
    at a time (needs pyarrow: ``pip install 'medref[parquet]'``).

    Raises:
        ValueError: pyarrow is missing, the file cannot be read as Parquet, or a required
            column is missing (naming it).
    """
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("reading Parquet needs pyarrow: pip install 'medref[parquet]'") from None
    try:
        dataset = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{name or path}: not a readable Parquet file "
                         f"({str(exc).splitlines()[0][:120]})") from None
    cols = _columns(dataset.schema_arrow.names, name)
    n = 0
    try:
        for batch in dataset.iter_batches(batch_size=batch_rows):
            for rec in batch.to_pylist():
                n += 1
                row = {c: _cell(c, v) for c, v in zip(cols, rec.values(), strict=True)}
                yield read_claim(row, n, lex)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{name or path}: Parquet read failed after row {n} "
                         f"({str(exc).splitlines()[0][:120]})") from None
