"""Validators for other tools' own pydantic models.

Example::

    from typing import Annotated
    from pydantic import BaseModel
    from medref import within_daily_max

    class Order(BaseModel):
        apap_mg_per_day: Annotated[float, within_daily_max("acetaminophen", unit="mg")]

    Order(apap_mg_per_day=4600)   # ValidationError: 4,600 mg/day exceeds ... 4,000 mg/day

Each validator is also a plain function (:func:`check_daily_dose`) for code without pydantic.

Nothing is silently passed: an amount that is not a finite number >= 0 (NaN, infinity, a
negative amount, ``"nan"`` text that pydantic reads as NaN), an unknown product, a unit that
cannot be compared, or a product with no maximum per day on file is a validation error.

Limits that apply to some routes only (methocarbamol's IV/IM 3 g/day, ketorolac's oral
40 mg/day) are enforced when ``route=`` names one of them; without a route the product's
default route is assumed, as ``medref check`` does for a line that states none (oral for
both), so ``check_daily_dose("ketorolac", 60, "mg")`` fails against the oral 40 mg/day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import AfterValidator

from medref.api import check
from medref.context import Context
from medref.errors import UnknownSubstanceError
from medref.knowledge import fmt
from medref.reference import Reference, load_reference
from medref.result import severity_rank


def _route(route: str | None) -> str | None:
    """The canonical route (``po``, ``iv`` ...) for a route or any of its spellings."""
    if route is None:
        return None
    from medref.models import Route
    from medref.sig import ROUTES
    if isinstance(route, str):
        key = route.strip().lower()
        canonical = ROUTES.get(key, key)
        if canonical in Route._value2member_map_:
            return canonical
    raise ValueError(f"route {route!r} is not a route (one of "
                     f"{', '.join(r.value for r in Route)}, or a spelling such as 'oral')")


def _amount(value: Any) -> float:
    """A finite amount per day >= 0 (a bool is not an amount)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"amount per day must be a number, not {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"amount per day must be a finite number, not {value!r}")
    if value < 0:
        raise ValueError(f"amount per day must not be negative ({fmt(value)})")
    return value


def daily_max(product: str, unit: str | None = None, *, context: Context | None = None,
              reference: Reference | None = None, route: str | None = None
              ) -> tuple[float, str, str] | None:
    """The enforced maximum per day for a product as ``(amount, unit, source)``, or None.

    The same maximum ``medref check`` enforces (:meth:`medref.knowledge.Ingredient.daily_max`;
    for a supplement without one, its Tolerable Upper Intake Level for the context's age band,
    :meth:`medref.knowledge.Ingredient.upper_intake`): context limits (age, CrCl, hepatic)
    that apply to ``context`` lower it; a limit for some
    routes only counts when ``route`` (``po``, ``oral``, ``iv`` ...; default the product's
    default route) is one of them.

    Raises:
        UnknownSubstanceError: unknown product name.
        ValueError: ``unit`` cannot be compared with the product's limits, or ``route`` is
            not a route.
    """
    ref = reference or load_reference()
    ing = ref.ingredient(product)
    if ing is None:
        raise UnknownSubstanceError(product.strip(), ref.suggest(product))
    rt = _route(route) or ing.default_route  # as `medref check` reads a line
    target = unit or ing.unit
    for lim in ing.limits:
        if (lim.kind == "period" and lim.period == "day" and lim.unit and target
                and not ing.comparable(lim.unit, target)):
            raise ValueError(f"{ing.name}: {target!r} cannot be compared with {lim.unit!r}")
    found = ing.daily_max(rt, context or Context(), target)
    if found is None and ing.kind == "supplement":
        found = ing.upper_intake(context or Context(), target)  # as `check` does (MR401)
    if found is None or target is None:
        return None
    amount, lim = found
    return amount, target, lim.cited.cite


def check_daily_dose(product: str, amount_per_day: float, unit: str, *,
                     context: Context | None = None, reference: Reference | None = None,
                     route: str | None = None) -> float:
    """Return ``amount_per_day`` if it is within the product's maximum per day.

    ``route`` selects the route-specific limits too (see :func:`daily_max`).

    Raises:
        ValueError: not a finite number >= 0, above the maximum (the message has both numbers
            and the source), or no maximum per day on file (nothing is silently passed as
            safe).
        UnknownSubstanceError: unknown product name.
    """
    amount_per_day = _amount(amount_per_day)
    found = daily_max(product, unit, context=context, reference=reference, route=route)
    if found is None:
        hint = ""
        if route is None and _has_route_limits(product, reference):
            hint = " without a route (its daily limits are route-specific: pass route=)"
        raise ValueError(f"no maximum per day on file for {product!r}{hint}; cannot verify")
    amount, u, src = found
    if amount_per_day > amount * (1 + 1e-9):
        # an unverified limit is not called labeled (its source text says it is unverified)
        what = "maximum" if "unverified" in src or "not verified" in src else "labeled maximum"
        raise ValueError(f"{fmt(amount_per_day)} {u}/day exceeds the {what} of "
                         f"{fmt(amount)} {u}/day for {product} ({src})")
    return amount_per_day


def _has_route_limits(product: str, reference: Reference | None) -> bool:
    ing = (reference or load_reference()).ingredient(product)
    return ing is not None and any(lim.kind == "period" and lim.period == "day" and lim.routes
                                   for lim in ing.limits)


def within_daily_max(product: str, unit: str = "mg", *, context: Context | None = None,
                     route: str | None = None) -> AfterValidator:
    """An ``Annotated`` validator: the field (an amount per day) must be within the maximum.

    Every failure, an unknown product included, is a pydantic ``ValidationError``.

    Raises:
        ValueError: ``route`` is not a route (at once, not at validation).
    """
    _route(route)

    def _v(value: float) -> float:
        try:
            return check_daily_dose(product, value, unit, context=context, route=route)
        except UnknownSubstanceError as exc:
            raise ValueError(str(exc)) from None
    return AfterValidator(_v)


WithinDailyMax = within_daily_max
"""Alias of :func:`within_daily_max` for ``Annotated[float, WithinDailyMax("tramadol")]``."""


def checked_regimen(fail_on: str = "error", *, context: Context | None = None
                    ) -> AfterValidator:
    """An ``Annotated`` validator for a list of sig lines: rejects a regimen with a finding at
    or above ``fail_on`` (default error), naming the findings."""
    limit = severity_rank(fail_on, "fail_on")

    def _v(lines: Sequence[str]) -> Sequence[str]:
        result = check(list(lines), context)
        bad = [f for f in result.findings if f.rank >= limit]
        if bad:
            raise ValueError("; ".join(f"{f.code} {f.message}" for f in bad[:3]))
        return lines
    return AfterValidator(_v)


__all__: list[str] = ["WithinDailyMax", "check_daily_dose", "checked_regimen", "daily_max",
                      "within_daily_max"]
