"""Validators for other tools' own pydantic models.

Example::

    from typing import Annotated
    from pydantic import BaseModel
    from medref import within_daily_max

    class Order(BaseModel):
        apap_mg_per_day: Annotated[float, within_daily_max("acetaminophen", unit="mg")]

    Order(apap_mg_per_day=4600)   # ValidationError: 4,600 mg/day exceeds ... 4,000 mg/day

Each validator is also a plain function (:func:`check_daily_dose`) for code without pydantic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import AfterValidator

from medref.engine import check, context_outcomes, fmt
from medref.reference import Reference, load_reference
from medref.result import Context
from medref.units import comparable, convert
from medref.vocab import SEVERITY_RANK


def daily_max(product: str, unit: str | None = None, *, context: Context | None = None,
              reference: Reference | None = None) -> tuple[float, str, str] | None:
    """The enforced maximum per day for a product as ``(amount, unit, source)``, or None.

    Context limits (age, CrCl, hepatic) that apply to ``context`` lower the result.

    Raises:
        UnknownSubstanceError: unknown product name.
        ValueError: ``unit`` cannot be compared with the product's limits.
    """
    ref = reference or load_reference()
    e = ref.lookup(product)
    iu = (e.get("iu_per_mcg") or {}).get("value")
    ctx = context or Context()
    best: tuple[float, str, str] | None = None
    for lim in e.get("limits", ()):
        if lim["kind"] != "period" or lim["period"] != "day":
            continue
        when = lim.get("when") or {}
        if when and not _context_matches(when, ctx):
            continue
        target = unit or lim["unit"]
        if not comparable(lim["unit"], target, iu):
            raise ValueError(f"{e['name']}: {target!r} cannot be compared with "
                             f"{lim['unit']!r}")
        amount = convert(lim["amount"], lim["unit"], target, iu)
        src = ref.source_label(lim.get("sources", ()), bool(lim.get("verified", True)))
        if best is None or amount < best[0]:
            best = (amount, target, src)
    return best


def _context_matches(when: dict[str, Any], ctx: Context) -> bool:
    """A limit qualified by an indication, formulation or first day is not the product's
    maximum; one bound to the patient context applies only when every value it needs is given
    and met (the rule the check applies, :func:`medref.engine.context_outcomes`)."""
    if any(when.get(k) for k in ("indication", "formulation", "first_day")):
        return False
    return all(met for _, met in context_outcomes(when, ctx))


def check_daily_dose(product: str, amount_per_day: float, unit: str, *,
                     context: Context | None = None, reference: Reference | None = None
                     ) -> float:
    """Return ``amount_per_day`` if it is within the product's maximum per day.

    Raises:
        ValueError: above the maximum (the message has both numbers and the source), or no
            maximum per day on file (nothing is silently passed as safe).
    """
    found = daily_max(product, unit, context=context, reference=reference)
    if found is None:
        raise ValueError(f"no maximum per day on file for {product!r}; cannot verify")
    amount, u, src = found
    if amount_per_day > amount * (1 + 1e-9):
        raise ValueError(f"{fmt(amount_per_day)} {u}/day exceeds the labeled maximum of "
                         f"{fmt(amount)} {u}/day for {product} ({src})")
    return amount_per_day


def within_daily_max(product: str, unit: str = "mg", *, context: Context | None = None
                     ) -> AfterValidator:
    """An ``Annotated`` validator: the field (an amount per day) must be within the maximum."""
    def _v(value: float) -> float:
        return check_daily_dose(product, value, unit, context=context)
    return AfterValidator(_v)


WithinDailyMax = within_daily_max
"""Alias of :func:`within_daily_max` for ``Annotated[float, WithinDailyMax("tramadol")]``."""


def checked_regimen(fail_on: str = "error", *, context: Context | None = None
                    ) -> AfterValidator:
    """An ``Annotated`` validator for a list of sig lines: rejects a regimen with a finding at
    or above ``fail_on`` (default error), naming the findings."""
    limit = SEVERITY_RANK[fail_on]

    def _v(lines: Sequence[str]) -> Sequence[str]:
        result = check(list(lines), context)
        bad = [f for f in result.findings if f.rank >= limit]
        if bad:
            raise ValueError("; ".join(f"{f.code} {f.message}" for f in bad[:3]))
        return lines
    return AfterValidator(_v)


__all__: list[str] = ["WithinDailyMax", "check_daily_dose", "checked_regimen", "daily_max",
                      "within_daily_max"]
