"""Limits per kg of body weight (MR108 per dose, MR109 per day), for the patient's weight."""

from __future__ import annotations

from collections.abc import Hashable

from medref.checks.base import (
    CONDITION_READS,
    IngredientCheck,
    IngredientGroup,
    KeyFn,
    Out,
    applies,
    conditions_key,
)
from medref.codes import Code
from medref.context import Context
from medref.knowledge import Ingredient, Knowledge, Limit, fmt

MR108 = Code("MR108", "dose-high", ("warning", "error"),
             "A single dose exceeds a per-kg maximum for the patient's weight (--weight).")
MR109 = Code("MR109", "daily-max", ("warning", "error"),
             "The worst-case total per day exceeds a per-kg maximum per day for the patient's "
             "weight (--weight).")


class PerKgLimits(IngredientCheck):
    """MR108, MR109: each per-kg limit whose age band fits, times the weight.

    Per-kg limits are the labels' paediatric (and some adult) maxima. With a weight they are
    compared; without one, a child's line (age given, inside the band) lists the weight as
    a context value not given (MR602). With neither, nothing is asked: the adult limits
    apply as usual.
    """

    name = "per-kg-limits"
    codes = (MR108, MR109)
    reads = CONDITION_READS

    def key(self, ingredient: Ingredient, kb: Knowledge) -> KeyFn | None:
        """The weight, which age bands the age falls in, and how the context meets the
        limits' other conditions."""
        lims = ingredient.per_kg_limits
        others = conditions_key([lim.when for lim in lims if lim.when is not None])

        def key(ctx: Context) -> Hashable:
            bands = tuple(_in_band(lim, ctx.age) for lim in lims)
            return (ctx.weight, bands, others(ctx) if others is not None else None)
        return key

    def relevant(self, ingredient: Ingredient) -> bool:
        """Ingredients with per-kg limits."""
        return bool(ingredient.per_kg_limits)

    def run(self, group: IngredientGroup, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Compare each dose and the day's total with each per-kg limit that applies."""
        e = group.ingredient
        dosed = group.dosed
        if not dosed:
            return
        unit = dosed[0].dose.unit if dosed[0].dose is not None else ""
        for lim in e.per_kg_limits:
            band = _in_band(lim, ctx.age)
            if band is False or lim.unit is None:
                continue
            routed = [p for p in dosed if lim.route_ok(p.line.route)
                      and lim.formulation_ok(p.dose.formulation if p.dose else None)]
            if not routed:
                continue
            w = lim.when
            if w is not None and w.qualified:
                continue  # an indication's per-kg dose is not a hard limit for a sig
            # another condition (CrCl below 30 ...): met, or the value is asked for
            if (w is not None and w.reads - {"age", "weight"} and band is not None
                    and applies(w._replace(min_age=None, max_age=None, weight_below=None), ctx,
                                out, [p.pos for p in routed],
                                f"{e.id} per-kg maximum") != "context"):
                continue
            if w is not None and w.weight_below is not None and ctx.weight is not None \
                    and not ctx.weight < w.weight_below:
                continue
            if ctx.weight is None:
                if band is True:  # a child, weight unknown: say what could not be checked
                    out.need("weight", f"{e.id} per-kg maximum", [p.pos for p in routed])
                continue
            if band is None:
                continue  # age not given: per-kg limits are for the age band they name
            per_kg = e.convert(lim.amount, lim.unit, unit)
            allowed = per_kg * ctx.weight
            who = f" ({lim.when.text()})" if lim.when is not None else ""
            src = lim.cited.cite
            what = lim.labeled("maximum")
            if lim.kind == "single":
                for p in routed:
                    if p.line.line.per_day:
                        continue  # a claim's daily amount is not a single dose
                    if p.dose is not None and p.dose.hi > allowed * (1 + 1e-9):
                        out.emit("MR108", lim.severity, (e.id,), (p.pos,),
                                 f"{e.name}: single dose {fmt(p.dose.hi)} {unit} exceeds the "
                                 f"{what} of {fmt(per_kg)} {unit}/kg{who}, {fmt(allowed)} "
                                 f"{unit} at {fmt(ctx.weight)} kg ({src})", src)
            elif lim.kind == "period" and lim.period == "day":
                total = sum((p.dose.daily if p.dose else None) or 0.0 for p in routed)
                if total > allowed * (1 + 1e-9):
                    out.emit("MR109", lim.severity, (e.id,), [p.pos for p in routed],
                             f"{e.name}: worst case {fmt(total)} {unit}/day exceeds the "
                             f"{what} of {fmt(per_kg)} {unit}/kg/day{who}, {fmt(allowed)} "
                             f"{unit}/day at {fmt(ctx.weight)} kg ({src})", src)


def _in_band(lim: Limit, age: int | None) -> bool | None:
    """Whether ``age`` is inside the limit's age band (True for a limit without one); None
    when the band needs an age that is not given."""
    w = lim.when
    if w is None or (w.min_age is None and w.max_age is None):
        return True
    if age is None:
        return None
    return w.age_in(age)
