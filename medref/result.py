"""The typed result of a check: findings, per-item results, summary, patient context.

Plain frozen dataclasses (fast to build, cheap to import); ``to_dict()`` gives exactly the JSON
output contract documented in the README, and ``medref schema`` prints its JSON Schema.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from medref.vocab import SEVERITY_RANK

CONTEXT_KEYS = ("age", "crcl", "hepatic_impairment", "weeks_since_surgery")
"""The fields of :class:`Context`, in order (also the keys of a batch record's ``context``)."""

CONTEXT_RANGES = {"age": 130, "crcl": 250, "weeks_since_surgery": 520}
"""Inclusive upper bound of each numeric context field (the lower bound is 0)."""


def context_value(key: str, value: Any) -> Any:
    """Validate one context value; the one rule behind :class:`Context` and batch contexts.

    ``None`` is unset. ``hepatic_impairment`` must be a bool; the others a finite number (a
    bool is not a number) from 0 to their bound in :data:`CONTEXT_RANGES`. ``age`` is whole
    years: a fractional age is truncated (80.9 is 80).

    Returns:
        The value to store (``age`` as an int).

    Raises:
        ValueError: naming the field as ``field 'context.<key>'``.
    """
    if value is None:
        return None
    if key == "hepatic_impairment":
        if not isinstance(value, bool):
            raise ValueError(f"field 'context.{key}': must be true or false")
        return value
    top = CONTEXT_RANGES.get(key)
    if top is None:
        raise ValueError(f"field 'context.{key}': unknown (expected {', '.join(CONTEXT_KEYS)})")
    if isinstance(value, bool) or not isinstance(value, int | float):
        import numbers  # numpy and other real number types, converted to float
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"field 'context.{key}': must be a number")
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"field 'context.{key}': must be a finite number")
    if not 0 <= value <= top:
        raise ValueError(f"field 'context.{key}': out of range 0-{top}")
    return int(value) if key == "age" else value


@dataclass(frozen=True, slots=True)
class Context:
    """Patient context for the checks. Unset values are reported where a rule needs them.

    Every value is validated on construction (``ValueError`` naming the field): age 0-130
    whole years, crcl 0-250, weeks_since_surgery 0-520 (finite numbers, not bools),
    hepatic_impairment a bool.

    Attributes:
        age: age in whole years.
        crcl: creatinine clearance in mL/min.
        hepatic_impairment: True when the patient has hepatic impairment.
        weeks_since_surgery: weeks since the fusion surgery.
    """

    age: int | None = None
    crcl: float | None = None
    hepatic_impairment: bool | None = None
    weeks_since_surgery: float | None = None

    def __post_init__(self) -> None:
        """Validate every field (:func:`context_value`): a wrong value is never read as unset.

        Raises:
            ValueError: naming the field, e.g. ``field 'context.age': out of range 0-130``.
        """
        for key in CONTEXT_KEYS:
            value = getattr(self, key)
            if value is not None:
                checked = context_value(key, value)
                if checked is not value:
                    object.__setattr__(self, key, checked)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (unset values are null)."""
        return {"age": self.age, "crcl": self.crcl,
                "hepatic_impairment": self.hepatic_impairment,
                "weeks_since_surgery": self.weeks_since_surgery}


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

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"items": self.items, "checked": self.checked, "statuses": dict(self.statuses),
                "findings": self.findings, "by_severity": dict(self.by_severity),
                "by_category": dict(self.by_category),
                "highest_severity": self.highest_severity, "mme_per_day": self.mme_per_day,
                "mme_factor_table": self.mme_factor_table, "context": self.context.to_dict(),
                "data": dict(self.data)}


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
