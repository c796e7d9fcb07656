"""The typed result of a check: findings, per-item results, summary, patient context.

Plain frozen dataclasses (fast to build, cheap to import); ``to_dict()`` gives exactly the JSON
output contract documented in the README, and ``medref schema`` prints its JSON Schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medref.context import CONTEXT_KEYS, CONTEXT_RANGES, Context, context_value
from medref.vocab import SEVERITY_RANK, STATUSES

if TYPE_CHECKING:
    from medref.engine import Assessment
    from medref.reference import Reference

__all__ = ["CONTEXT_KEYS", "CONTEXT_RANGES", "CheckResult", "Context", "Finding", "ItemResult",
           "Summary", "build_result", "context_value", "severity_rank"]

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
class ItemResult:
    """What medref read from one input line, and its worst-case daily total.

    ``daily_total`` is the worst case per day (largest dose x most administrations) in
    ``daily_unit``; ``percent_of_max`` compares it with the enforced per-day maximum.
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

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"items": self.items, "checked": self.checked, "statuses": dict(self.statuses),
                "findings": self.findings, "by_severity": dict(self.by_severity),
                "by_category": dict(self.by_category),
                "highest_severity": self.highest_severity, "mme_per_day": self.mme_per_day,
                "mme_factor_table": self.mme_factor_table, "context": self.context.to_dict(),
                "data": dict(self.data), "context_sources": dict(self.context_sources)}


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


def _item(i: int, ln: Any, ctx: Context) -> ItemResult:
    """What was read from line ``i`` (a :class:`medref.dosing.ResolvedLine`)."""
    m, e = ln.line, ln.product
    readable = m.readable
    freq = m.frequency if readable else None
    dose = ln.doses[0] if ln.doses else None
    daily = dose.daily if dose is not None else None
    dmax = None
    if e is not None and ln.grouped and dose is not None and daily is not None:
        found = dose.ingredient.daily_max(ln.route, ctx, dose.unit)
        dmax = found[0] if found is not None else None
    pct = round(100 * daily / dmax, 1) if daily is not None and dmax else None
    return ItemResult(
        line=i, input=m.text, product=e.id if e is not None else None, status=ln.status,
        name=e.name if e is not None else (m.name if readable else None),
        kind=e.kind if e is not None else None,
        dose=m.dose, dose_max=m.dose_max, unit=m.unit,
        route=ln.route if e is not None else m.route,
        frequency=(freq.text + (" prn" if m.prn else "")) if freq is not None
        else ("prn" if m.prn else None),
        administrations_per_day=freq.per_day_max if freq is not None else None,
        prn=m.prn, prn_reason=m.prn_reason, duration_days=m.duration_days,
        daily_total=_round(daily), daily_unit=dose.unit if daily is not None and dose else None,
        daily_max=dmax, percent_of_max=pct, mme_per_day=_round(ln.mme),
        unparsed=m.unparsed)


def build_result(ref: Reference, a: Assessment,
                 context_sources: dict[str, str | None] | None = None) -> CheckResult:
    """The :class:`CheckResult` of an assessment (what :func:`medref.check` returns)."""
    items = tuple(_item(i, ln, a.context) for i, ln in enumerate(a.lines))
    findings = tuple(Finding(b.code, b.category, b.severity, b.items, lines, b.message,
                             b.source, b.rule) for _, lines, b in a.findings)
    by_sev, by_cat, statuses = tally(a)
    summary = Summary(items=len(items), checked=statuses["checked"], statuses=statuses,
                      findings=len(findings), by_severity=by_sev, by_category=by_cat,
                      highest_severity=findings[0].severity if findings else None,
                      mme_per_day=a.mme,
                      mme_factor_table=ref.knowledge.policy.mme_factor_table_version,
                      context=a.context, data=ref.info.to_dict(),
                      context_sources=dict(context_sources or _no_sources(a.context)))
    return CheckResult(items, findings, summary)


def _no_sources(ctx: Context) -> dict[str, str | None]:
    return {k: ("options" if getattr(ctx, k) is not None else None) for k in CONTEXT_KEYS}
