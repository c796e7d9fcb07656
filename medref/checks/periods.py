"""Totals per day, week, month or year against the labeled maxima, across every line.

MR102 (one line above a maximum), MR301 (several lines of one ingredient summed above it),
MR106 (above a labeled alternative that depends on indication or formulation; info), MR107
(above a maximum for the patient context), MR004 (no labeled maximum per day on file).
"""

from __future__ import annotations

from medref.checks.base import (
    IngredientCheck,
    IngredientGroup,
    KeyFn,
    Out,
    Portion,
    applies,
    conditions_key,
    contributions_text,
)
from medref.checks.readability import MR004
from medref.codes import Code
from medref.context import Context
from medref.knowledge import PERIOD_DAYS, Ingredient, Knowledge, Limit, fmt

MR102 = Code("MR102", "daily-max", ("info", "warning", "error"),
             "The worst-case total per day, week, month or year exceeds the labeled maximum.")
MR106 = Code("MR106", "daily-max", ("info",),
             "Above a labeled alternative maximum that depends on indication or formulation "
             "(e.g. OTC labeling, DPN).")
MR107 = Code("MR107", "daily-max", ("info", "warning", "error"),
             "Above a maximum adjusted for the patient context (age, CrCl, hepatic impairment).")
MR301 = Code("MR301", "daily-max", ("info", "warning", "error"),
             "The same ingredient on several lines sums above the labeled maximum; each line's "
             "contribution is listed.")


class PeriodLimits(IngredientCheck):
    """MR102, MR106, MR107, MR301 and MR004 (no labeled daily maximum)."""

    name = "period-limits"
    codes = (MR102, MR106, MR107, MR301, MR004)
    reads = frozenset({"age", "crcl", "hepatic_impairment"})

    def key(self, ingredient: Ingredient, kb: Knowledge) -> KeyFn | None:
        """How the context meets the conditions of the period limits."""
        return conditions_key([lim.when for lim in ingredient.limits
                               if lim.kind == "period" and lim.when is not None])

    def run(self, group: IngredientGroup, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Compare each window's worst-case total with each period limit."""
        dosed = group.dosed
        if not dosed:
            return
        e = group.ingredient
        unit = dosed[0].dose.unit if dosed[0].dose is not None else ""
        has_default = False
        for lim in e.limits:
            if lim.kind != "period" or lim.period is None or lim.unit is None:
                continue
            routed = [p for p in dosed if lim.route_ok(p.line.route)]
            if not routed:
                continue
            how = applies(lim.when, ctx, out, [p.pos for p in routed],
                          f"{e.id} maximum per {lim.period}")
            if how is None:
                continue
            days = PERIOD_DAYS[lim.period]
            if how == "qualified":
                routed = [p for p in routed if _fits_alternative(p, lim, days)]
                if not routed:
                    continue
            if how == "default":
                has_default = True
            amount = e.convert(lim.amount, lim.unit, unit)
            total = sum((p.dose.total_in(days) if p.dose else None) or 0.0 for p in routed)
            if total <= amount * (1 + 1e-9):
                continue
            self._report(group, lim, how, routed, total, amount, unit, days, out)
        _no_daily_max(group, dosed, has_default, unit, out)

    @staticmethod
    def _report(group: IngredientGroup, lim: Limit, how: str, routed: list[Portion],
                total: float, amount: float, unit: str, days: int, out: Out) -> None:
        e = group.ingredient
        per = lim.period
        src = lim.cited.cite
        when = lim.when.text() if lim.when is not None else ""
        if how == "default":
            label, code, sev = f"the {lim.labeled('maximum')}", "MR102", lim.severity
        elif how == "context":
            label, code, sev = f"the maximum for {when}", "MR107", lim.severity
        else:
            label, code, sev = f"the {lim.labeled('maximum')} for {when}", "MR106", "info"
        if lim.label and how == "default" and sev != "error":
            label += f" ({lim.label})"
        if len(routed) > 1 and how != "qualified":
            code = "MR301" if how == "default" else code
            msg = (f"{e.name}: worst case {fmt(total)} {unit}/{per} across {len(routed)} lines "
                   f"({contributions_text(routed, days, unit)}) exceeds {label} of {fmt(amount)} "
                   f"{unit}/{per} ({src})")
        else:
            p0 = routed[0]
            detail = ""
            freq = p0.dose.frequency if p0.dose is not None else None
            if freq is not None and len(routed) == 1 and p0.dose is not None:
                prn = " prn" if p0.line.line.prn else ""
                detail = (f" ({fmt(p0.dose.hi)} {unit} x {freq.max_in(days)} "
                          f"administrations, {freq.text}{prn})")
            msg = (f"{e.name}: worst case {fmt(total)} {unit}/{per}{detail} exceeds {label} of "
                   f"{fmt(amount)} {unit}/{per} ({src})")
        out.emit(code, sev, (e.id,), [p.pos for p in routed], msg, src)


def _fits_alternative(p: Portion, lim: Limit, days: int) -> bool:
    """A labeled alternative (indication, formulation) compares only with a line of that
    formulation dosed on the same time scale: a weekly dose is not a daily regimen."""
    if lim.when is not None and not lim.when.matches_formulation(p.line.line.formulation):
        return False
    freq = p.dose.frequency if p.dose is not None else None
    return freq is not None and freq.scale_days <= days


def _no_daily_max(group: IngredientGroup, dosed: list[Portion], has_default: bool, unit: str,
                  out: Out) -> None:
    e = group.ingredient
    if has_default or e.kind == "supplement":
        return
    defaults = [lim for lim in e.limits if lim.when is None]
    if unit == "%" and any(lim.kind == "administrations" for lim in defaults):
        return  # a concentration: the administrations limit is what is checked
    extra = (" (single-dose or administration limits were checked)"
             if any(lim.kind in ("single", "administrations") for lim in defaults) else "")
    if "opioid" in e.classes:
        extra += "; opioid MME/day is checked instead"
    out.emit("MR004", "warning", (e.id,), [p.pos for p in dosed],
             f"{e.name}: no labeled maximum per day on file, so the daily total was not "
             f"compared with a limit{extra}")
