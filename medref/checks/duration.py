"""Stated durations and course lengths against their labeled limits (MR501, MR502)."""

from __future__ import annotations

from medref.checks.base import (
    CONDITION_READS,
    IngredientCheck,
    IngredientGroup,
    KeyFn,
    Out,
    Portion,
    applies,
    conditions_key,
)
from medref.codes import Code
from medref.context import Context
from medref.knowledge import Ingredient, Knowledge, fmt

MR501 = Code("MR501", "duration", ("info", "warning", "error"),
             "A stated duration exceeds the labeled limit (ketorolac 5 days, cyclobenzaprine "
             "2-3 weeks, PTH analogs 2 years).")
MR502 = Code("MR502", "duration", ("warning", "error"),
             "A course exceeds its labeled number of administrations (romosozumab 12 doses).")

_KINDS = ("duration", "course")


class DurationLimits(IngredientCheck):
    """MR501, MR502: days of use and doses in a course."""

    name = "duration-limits"
    codes = (MR501, MR502)
    reads = CONDITION_READS

    def key(self, ingredient: Ingredient, kb: Knowledge) -> KeyFn | None:
        """How the context meets the conditions of the duration and course limits."""
        return conditions_key([lim.when for lim in ingredient.limits
                               if lim.kind in _KINDS and lim.when is not None])

    def relevant(self, ingredient: Ingredient) -> bool:
        """Ingredients with a duration or course limit."""
        return any(lim.kind in _KINDS for lim in ingredient.limits)

    def run(self, group: IngredientGroup, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Sum the stated durations (or administrations) of the lines a limit covers."""
        with_dur = [p for p in group.portions if p.line.line.duration_days is not None
                    or p.line.line.duration_doses]
        if not with_dur:
            return
        e = group.ingredient
        for lim in e.limits:
            if lim.kind not in _KINDS:
                continue
            routed = [p for p in with_dur if lim.route_ok(p.line.route)]
            if not routed:
                continue
            idx = [p.pos for p in routed]
            how = applies(lim.when, ctx, out, idx, f"{e.id} {lim.kind} limit")
            if how is None:
                continue
            sev = lim.severity if how != "qualified" else "info"
            src = lim.cited.cite
            if lim.kind == "duration":
                days = sum(p.line.line.duration_days or 0.0 for p in routed)
                if days > lim.amount * (1 + 1e-9):
                    total = " in total" if len(routed) > 1 else ""
                    out.emit("MR501", sev, (e.id,), idx,
                             f"{e.name}: {fmt(days)} days{total} exceeds the "
                             f"{lim.labeled('limit')} of {fmt(lim.amount)} days ({src})", src)
            else:
                count = sum(_administrations(p) for p in routed)
                if count > lim.amount:
                    out.emit("MR502", sev, (e.id,), idx,
                             f"{e.name}: up to {count} administrations exceeds the course "
                             f"limit of {fmt(lim.amount)} ({src})", src)


def _administrations(p: Portion) -> int:
    ln = p.line.line
    if ln.duration_doses:
        return ln.duration_doses
    if ln.duration_days is not None and ln.frequency is not None:
        return ln.frequency.max_in(ln.duration_days)
    return 0
