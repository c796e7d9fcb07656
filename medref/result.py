"""The typed result of a check: findings, per-item results, summary, patient context.

Plain frozen dataclasses (fast to build, cheap to import); ``to_dict()`` gives exactly the JSON
output contract documented in the README, and ``medref schema`` prints its JSON Schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medref.codes import ALERT_POLICY
from medref.context import CONTEXT_KEYS, CONTEXT_RANGES, Context, context_value
from medref.knowledge import Knowledge, Product
from medref.regimen import FhirInfo
from medref.vocab import SEVERITY_RANK, STATUSES

if TYPE_CHECKING:
    from medref.dosing import DoseFacts, ResolvedLine
    from medref.engine import Assessment
    from medref.reference import Reference
    from medref.regimen import MedicationLine

__all__ = ["CONTEXT_KEYS", "CONTEXT_RANGES", "CheckResult", "Context", "Finding",
           "IngredientResult", "ItemResult", "Summary", "build_result", "context_value",
           "severity_rank"]

def severity_rank(severity: Any, what: str = "severity") -> int:
    """The rank of a severity name (0 info, 1 warning, 2 error).

    Raises:
        ValueError: not a severity; the message names ``what`` and the allowed values.
    """
    try:
        return SEVERITY_RANK[severity]
    except (KeyError, TypeError):
        raise ValueError(f"{what} must be one of {', '.join(SEVERITY_RANK)}, not "
                         f"{severity!r}") from None


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found (or one thing that could not be checked).

    Attributes:
        code: stable rule code (``MR102``); see the README table.
        category: one of :data:`medref.vocab.CATEGORIES`.
        severity: ``info``, ``warning`` or ``error``.
        items: canonical ids involved, sorted.
        lines: 0-based input line indexes involved, sorted.
        message: one plain sentence with the numbers.
        source: citation of the data behind the finding, or None.
        rule: id of the data rule (interactions.json) that fired, or None.
    """

    code: str
    category: str
    severity: str
    items: tuple[str, ...]
    lines: tuple[int, ...]
    message: str
    source: str | None = None
    rule: str | None = None

    @property
    def rank(self) -> int:
        """Severity rank: 0 info, 1 warning, 2 error."""
        return SEVERITY_RANK[self.severity]

    def sort_key(self) -> tuple[int, str, tuple[str, ...], tuple[int, ...], str]:
        """Deterministic order: most severe first, then code, items, lines, message."""
        return (-self.rank, self.code, self.items, self.lines, self.message)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (field names are a public contract)."""
        return {"code": self.code, "category": self.category, "severity": self.severity,
                "items": list(self.items), "lines": list(self.lines), "message": self.message,
                "source": self.source, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class IngredientResult:
    """One ingredient of a line: its dose per administration and worst case per day, in the
    unit its limits use (a salt converted to its base or elemental amount).

    ``daily_total`` is an average per day for a dose given less often than daily
    (``average``), and no more than a written daily maximum allows (``daily_uncapped`` is the
    frequency's worst case when the written maximum lowered it).
    """

    id: str
    name: str
    dose: float
    dose_max: float
    unit: str
    daily_total: float | None = None
    daily_uncapped: float | None = None
    average: bool = False
    daily_max: float | None = None
    percent_of_max: float | None = None
    mme_per_day: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (field names are a public contract)."""
        return {"id": self.id, "name": self.name, "dose": self.dose, "dose_max": self.dose_max,
                "unit": self.unit, "daily_total": self.daily_total,
                "daily_uncapped": self.daily_uncapped, "average": self.average,
                "daily_max": self.daily_max, "percent_of_max": self.percent_of_max,
                "mme_per_day": self.mme_per_day}


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What medref read from one input line, and its worst-case daily total.

    ``daily_total`` is the worst case per day (largest dose x most administrations) in
    ``daily_unit``; ``percent_of_max`` compares it with the enforced per-day maximum. For a
    line with several ingredients (a combination product) these describe the ingredient
    nearest its maximum, and :attr:`ingredients` lists each one.

    ``product`` is the canonical id of what the line names: an ingredient (also for a
    single-ingredient brand: ``Advil`` is ``ibuprofen``) or a combination product
    (``percocet``); ``marketed_product`` is the marketed product named, if any.
    ``product_type`` is ``ingredient`` (a reference entry) or ``product`` (a marketed product);
    ``strength`` and ``formulation`` are what the line was checked at, with ``*_assumed`` when
    the line did not say; ``units_per_dose`` counts units of use (``2`` tablets), and
    ``units_per_day`` is their worst case per day (within a written maximum).
    """

    line: int
    input: str
    product: str | None
    status: str
    name: str | None = None
    kind: str | None = None
    dose: float | None = None
    dose_max: float | None = None
    unit: str | None = None
    route: str | None = None
    frequency: str | None = None
    administrations_per_day: int | None = None
    prn: bool = False
    prn_reason: str | None = None
    duration_days: float | None = None
    daily_total: float | None = None
    daily_unit: str | None = None
    daily_max: float | None = None
    percent_of_max: float | None = None
    mme_per_day: float | None = None
    unparsed: tuple[str, ...] = ()
    product_type: str | None = None
    formulation: str | None = None
    formulation_assumed: bool = False
    strength: str | None = None
    strength_assumed: bool = False
    units_per_dose: float | None = None
    units_per_dose_max: float | None = None
    unit_of_use: str | None = None
    units_assumed: bool = False
    units_per_day: float | None = None
    daily_average: bool = False
    written_max: str | None = None
    steps: int = 1
    assumptions: tuple[str, ...] = ()
    ingredients: tuple[IngredientResult, ...] = ()
    marketed_product: str | None = None
    marketed_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (field names are a public contract)."""
        return {
            "line": self.line, "input": self.input, "product": self.product,
            "status": self.status, "name": self.name, "kind": self.kind, "dose": self.dose,
            "dose_max": self.dose_max, "unit": self.unit, "route": self.route,
            "frequency": self.frequency, "administrations_per_day": self.administrations_per_day,
            "prn": self.prn, "prn_reason": self.prn_reason, "duration_days": self.duration_days,
            "daily_total": self.daily_total, "daily_unit": self.daily_unit,
            "daily_max": self.daily_max, "percent_of_max": self.percent_of_max,
            "mme_per_day": self.mme_per_day, "unparsed": list(self.unparsed),
            "product_type": self.product_type, "formulation": self.formulation,
            "formulation_assumed": self.formulation_assumed, "strength": self.strength,
            "strength_assumed": self.strength_assumed, "units_per_dose": self.units_per_dose,
            "units_per_dose_max": self.units_per_dose_max, "unit_of_use": self.unit_of_use,
            "units_assumed": self.units_assumed, "units_per_day": self.units_per_day,
            "daily_average": self.daily_average, "written_max": self.written_max,
            "steps": self.steps, "assumptions": list(self.assumptions),
            "ingredients": [g.to_dict() for g in self.ingredients],
            "marketed_product": self.marketed_product, "marketed_name": self.marketed_name,
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts and regimen-wide figures."""

    items: int
    checked: int
    statuses: dict[str, int]
    findings: int
    by_severity: dict[str, int]
    by_category: dict[str, int]
    highest_severity: str | None
    mme_per_day: float | None
    mme_factor_table: str
    context: Context
    data: dict[str, str] = field(default_factory=dict)
    context_sources: dict[str, str | None] = field(default_factory=dict)
    """Where each context value came from: ``input`` (the regimen's own), ``options``
    (command-line options or the caller's ``context=``), or null (not given)."""
    alert_policy: str = ALERT_POLICY
    """The alert policy version the severities follow (``docs/ALERT-POLICY.md``)."""
    fhir: FhirInfo | None = None
    """For FHIR input: the resource of each item, those not checked and why, and what was
    assumed about the document (``summary.fhir``, present only for FHIR input)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        out = {"items": self.items, "checked": self.checked, "statuses": dict(self.statuses),
                "findings": self.findings, "by_severity": dict(self.by_severity),
                "by_category": dict(self.by_category),
                "highest_severity": self.highest_severity, "mme_per_day": self.mme_per_day,
                "mme_factor_table": self.mme_factor_table, "context": self.context.to_dict(),
                "data": dict(self.data), "context_sources": dict(self.context_sources),
                "alert_policy": self.alert_policy}
        if self.fhir is not None:
            out["fhir"] = self.fhir.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The result of checking one regimen: one item per input line, sorted findings."""

    items: tuple[ItemResult, ...]
    findings: tuple[Finding, ...]
    summary: Summary

    def exit_code(self, fail_on: str = "warning") -> int:
        """1 when a finding reaches ``fail_on`` (info, warning or error), else 0.

        Raises:
            ValueError: ``fail_on`` is not a severity.
        """
        limit = severity_rank(fail_on, "fail_on")
        return 1 if any(f.rank >= limit for f in self.findings) else 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON output document of ``medref check --format json``."""
        from medref._version import __version__
        return {"items": [i.to_dict() for i in self.items],
                "findings": [f.to_dict() for f in self.findings],
                "summary": self.summary.to_dict(), "medref_version": __version__}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def tally(a: Assessment) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Findings by severity (info, warning, error), by category (sorted), items by status."""
    by_sev = {"info": 0, "warning": 0, "error": 0}
    by_cat: dict[str, int] = {}
    for f in a.findings:
        t = f[2]
        by_sev[t.severity] += 1
        by_cat[t.category] = by_cat.get(t.category, 0) + 1
    statuses = dict.fromkeys(STATUSES, 0)
    for ln in a.lines:
        statuses[ln.status] += 1
    return by_sev, dict(sorted(by_cat.items())), statuses


def _ingredient(d: DoseFacts, ln: ResolvedLine, ctx: Context) -> IngredientResult:
    ing = d.ingredient
    dmax = None
    if d.daily is not None:
        found = ing.daily_max(ln.route, ctx, d.unit, d.formulation)
        dmax = found[0] if found is not None else None
    pct = round(100 * d.daily / dmax, 1) if d.daily is not None and dmax else None
    factor = ing.mme_factor.value if ing.mme_factor is not None else None
    mme = (_round(d.daily * factor) if ln.mme is not None and d.daily is not None
           and isinstance(factor, float) else None)
    return IngredientResult(ing.id, ing.name, _round(d.lo) or 0.0, _round(d.hi) or 0.0,
                            d.unit, _round(d.daily), _round(d.daily_uncapped), d.average,
                            dmax, pct, mme)


def _primary(parts: tuple[IngredientResult, ...]) -> IngredientResult | None:
    """The ingredient nearest its maximum (the first when none has one)."""
    if not parts:
        return None
    return max(parts, key=lambda g: -1.0 if g.percent_of_max is None else g.percent_of_max)


def _units_per_day(m: MedicationLine) -> float | None:
    freq = m.frequency
    units = m.units_max if m.units_max is not None else m.units
    if freq is None or units is None or m.units_assumed:
        return None
    if freq.scale_days > 1 and not freq.once:
        per_day = units * freq.average_per_day
    else:
        per_day = units * freq.max_in(1)
    if m.slot_units is not None:
        per_day = min(per_day, m.slot_units)
    if m.cap_per_day and m.cap_units is not None:
        per_day = min(per_day, m.cap_units)
    return _round(per_day)


def _item(i: int, ln: ResolvedLine, ctx: Context, kb: Knowledge) -> ItemResult:
    """What was read from line ``i``."""
    m, e = ln.line, ln.product
    readable = m.readable
    freq = m.frequency if readable else None
    parts = tuple(_ingredient(d, ln, ctx) for d in ln.doses) if ln.grouped else ()
    main = _primary(parts)
    # a single-ingredient brand ('Advil') names its ingredient, as before products existed
    marketed = kb.products.get(m.marketed) if m.marketed else None
    named = e
    if named is None:
        kind, ptype = None, None
    elif isinstance(named, Product):
        ptype = "product"
        kind = "drug" if any(d.ingredient.kind == "drug" for d in ln.doses) or not ln.doses \
            else "supplement"
    else:
        kind, ptype = named.kind, "ingredient" if marketed is None else "product"
    return ItemResult(
        line=i, input=m.text, product=named.id if named is not None else None,
        status=ln.status,
        name=named.name if named is not None else (m.name if readable else None),
        kind=kind, dose=m.dose, dose_max=m.dose_max, unit=m.unit,
        route=ln.route if e is not None else m.route,
        frequency=(freq.text + (" prn" if m.prn else "")) if freq is not None
        else ("prn" if m.prn else None),
        administrations_per_day=freq.per_day_max if freq is not None else None,
        prn=m.prn, prn_reason=m.prn_reason, duration_days=m.duration_days,
        daily_total=main.daily_total if main is not None else None,
        daily_unit=main.unit if main is not None and main.daily_total is not None else None,
        daily_max=main.daily_max if main is not None else None,
        percent_of_max=main.percent_of_max if main is not None else None,
        mme_per_day=_round(ln.mme), unparsed=m.unparsed,
        product_type=ptype, formulation=ln.formulation or m.formulation,
        formulation_assumed=m.formulation_assumed, strength=m.strength_label,
        strength_assumed=m.strength_assumed, units_per_dose=m.units,
        units_per_dose_max=m.units_max, unit_of_use=m.unit_of_use,
        units_assumed=m.units_assumed, units_per_day=_units_per_day(m) if readable else None,
        daily_average=any(g.average for g in parts), written_max=m.cap_text,
        steps=m.steps, assumptions=m.assumptions, ingredients=parts,
        marketed_product=marketed.id if marketed is not None else None,
        marketed_name=marketed.name if marketed is not None else None)


def build_result(ref: Reference, a: Assessment,
                 context_sources: dict[str, str | None] | None = None,
                 fhir: FhirInfo | None = None) -> CheckResult:
    """The :class:`CheckResult` of an assessment (what :func:`medref.check` returns);
    ``fhir`` is what a FHIR input said beyond its lines (``summary.fhir``)."""
    items = tuple(_item(i, ln, a.context, ref.knowledge) for i, ln in enumerate(a.lines))
    findings = tuple(Finding(b.code, b.category, b.severity, b.items, lines, b.message,
                             b.source, b.rule) for _, lines, b in a.findings)
    by_sev, by_cat, statuses = tally(a)
    summary = Summary(items=len(items), checked=statuses["checked"], statuses=statuses,
                      findings=len(findings), by_severity=by_sev, by_category=by_cat,
                      highest_severity=findings[0].severity if findings else None,
                      mme_per_day=a.mme,
                      mme_factor_table=ref.knowledge.policy.mme_factor_table_version,
                      context=a.context, data=ref.info.to_dict(),
                      context_sources=dict(context_sources or _no_sources(a.context)),
                      fhir=fhir)
    return CheckResult(items, findings, summary)


def _no_sources(ctx: Context) -> dict[str, str | None]:
    return {k: ("options" if getattr(ctx, k) is not None else None) for k in CONTEXT_KEYS}
