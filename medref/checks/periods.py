"""Totals per day, week, month or year against the labeled maxima, across every line.

MR102 (one line above a maximum), MR301 (several lines of one ingredient summed above it),
MR106 (above a labeled alternative that depends on indication or formulation; info), MR107
(above a maximum for the patient context), MR004 (no labeled maximum per day on file).
"""

from __future__ import annotations

from medref.checks.base import (
    CONDITION_READS,
    IngredientCheck,
    IngredientGroup,
    KeyFn,
    Out,
    Portion,
    applies,
    assumed_formulation,
    assumed_repeats,
    assumed_strength,
    conditions_key,
    contributions_text,
    egfr_note,
    formulation_note,
)
from medref.checks.readability import MR004
from medref.codes import Code
from medref.context import Context
from medref.knowledge import PERIOD_DAYS, Ingredient, Knowledge, Limit, fmt
from medref.vocab import SEVERITY_RANK

MR102 = Code("MR102", "daily-max", ("warning", "error"),
             "The worst-case total per day, week, month or year exceeds the labeled maximum.")
MR106 = Code("MR106", "daily-max", ("info",),
             "Above a labeled alternative maximum that depends on indication or formulation "
             "(e.g. OTC labeling, DPN).")
MR107 = Code("MR107", "daily-max", ("info", "warning", "error"),
             "Above a maximum adjusted for the patient context (age, CrCl, hepatic impairment).")
MR012 = Code("MR012", "daily-max", ("warning",),
             "A written daily maximum on the line (max 8 tabs a day) allows more than the "
             "labeled maximum.")
MR301 = Code("MR301", "daily-max", ("warning", "error"),
             "The same ingredient on several lines sums above the labeled maximum; each line's "
             "contribution is listed.")


class PeriodLimits(IngredientCheck):
    """MR102, MR106, MR107, MR301 and MR004 (no labeled daily maximum)."""

    name = "period-limits"
    codes = (MR102, MR106, MR107, MR301, MR004, MR012)
    reads = CONDITION_READS

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
        # context limits exceeded, reported once the loop knows them all: (limit, lines,
        # total, amount); of nested bands (CrCl below 35: 50 mg, below 15: 25 mg) only the
        # binding one is reported
        exceeded: list[tuple[Limit, list[Portion], float, float]] = []
        for lim in e.limits:
            if lim.kind != "period" or lim.period is None or lim.unit is None:
                continue
            routed = [p for p in dosed if lim.route_ok(p.line.route)
                      and lim.formulation_ok(p.dose.formulation if p.dose else None)]
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
            if days == 1 and how != "qualified":
                _written_cap_above(e, lim, routed, amount, unit, out)
            total = sum((p.dose.total_in(days) if p.dose else None) or 0.0 for p in routed)
            if total <= amount * (1 + 1e-9):
                continue
            if how == "context":
                exceeded.append((lim, routed, total, amount))
                continue
            self._report(group, lim, how, routed, total, amount, unit, days, out, ctx)
        for i, (lim, routed, total, amount) in enumerate(exceeded):
            if not _implied(i, exceeded):
                self._report(group, lim, "context", routed, total, amount, unit,
                             PERIOD_DAYS[lim.period or "day"], out, ctx)
        _across_formulations(e, dosed, unit, out)
        _no_daily_max(group, dosed, has_default, unit, out)

    @staticmethod
    def _report(group: IngredientGroup, lim: Limit, how: str, routed: list[Portion],
                total: float, amount: float, unit: str, days: int, out: Out,
                ctx: Context) -> None:
        e = group.ingredient
        per = lim.period
        src = lim.cited.cite
        when = lim.when.text() if lim.when is not None else ""
        if how == "default":
            label, code, sev = f"the {lim.labeled('maximum')}", "MR102", lim.severity
        elif how == "context":
            label, code, sev = (f"the maximum for {when}{egfr_note(lim.when, ctx)}", "MR107",
                                lim.severity)
        else:
            label, code, sev = f"the {lim.labeled('maximum')} for {when}", "MR106", "info"
        if lim.label and how == "default" and sev != "error":
            label += f" ({lim.label})"
        label += formulation_note(lim.formulations, [p.line for p in routed])
        sev, assumed = assumed_strength(sev, [p.line for p in routed])
        sev, repeats = assumed_repeats(sev, [p.line for p in routed])
        assumed += repeats
        if how == "default":
            sev, other = assumed_formulation(sev, e, lim, [p.line for p in routed], total, unit)
            assumed += other
        elif how == "qualified":
            assumed += _fits(e, lim, routed, total, unit)
        if len(routed) > 1 and how != "qualified":
            code = "MR301" if how == "default" else code
            msg = (f"{e.name}: worst case {fmt(total)} {unit}/{per} across {len(routed)} lines "
                   f"({contributions_text(routed, days, unit)}) exceeds {label} of {fmt(amount)} "
                   f"{unit}/{per}{assumed} ({src})")
        else:
            p0 = routed[0]
            detail = ""
            freq = p0.dose.frequency if p0.dose is not None else None
            if freq is not None and len(routed) == 1 and p0.dose is not None:
                detail = dose_detail(p0, days, unit)
            msg = (f"{e.name}: worst case {fmt(total)} {unit}/{per}{detail} exceeds {label} of "
                   f"{fmt(amount)} {unit}/{per}{assumed} ({src})")
        out.emit(code, sev, (e.id,), [p.pos for p in routed], msg, src)


def _implied(i: int, exceeded: list[tuple[Limit, list[Portion], float, float]]) -> bool:
    """True when another exceeded context limit of the same period over the same lines is
    lower (or as low and listed first) and at least as severe: its finding says this one
    (nested bands such as CrCl below 35 and below 15; one problem, one finding)."""
    lim, routed, _, amount = exceeded[i]
    pos = [p.pos for p in routed]
    rank = SEVERITY_RANK[lim.severity]
    for j, (other, o_routed, _, o_amount) in enumerate(exceeded):
        if (j != i and other.period == lim.period and [p.pos for p in o_routed] == pos
                and SEVERITY_RANK[other.severity] >= rank
                and (o_amount < amount or (o_amount == amount and j < i))):
            return True
    return False


def _fits(e: Ingredient, lim: Limit, routed: list[Portion], total: float, unit: str) -> str:
    """``; within the labeled maximum of 1,500 mg/day (RA/OA ...)``: the labeled use a dose
    above an alternative still fits (the hard maximum of the same period)."""
    route = routed[0].line.route if routed else None
    form = routed[0].line.formulation if routed else None
    for other in e.limits:
        if (other.kind != "period" or other.period != lim.period or other.when is not None
                or other.unit is None or not other.route_ok(route)
                or (other.formulations and form is not None
                    and form not in other.formulations)):
            continue
        amount = e.convert(other.amount, other.unit, unit)
        if total <= amount * (1 + 1e-9):
            what = f" ({other.label})" if other.label else ""
            return (f"; within the {other.labeled('maximum')} of {fmt(amount)} "
                    f"{unit}/{lim.period}{what}")
    return ""


def dose_detail(p: Portion, days: int, unit: str) -> str:
    """`` (1,300 mg x 4 administrations, q6h prn)``: how a line reaches its total in a
    period (an average for a dose given less often than daily; within a written maximum)."""
    d = p.dose
    if d is None or d.frequency is None:
        return ""
    freq = d.frequency
    prn = " prn" if p.line.line.prn else ""
    if days == 1 and d.average:
        return (f" ({fmt(d.hi)} {unit} {freq.text}{prn}: "
                f"{fmt(d.daily or 0.0)} {unit}/day on average)")
    if days == 1 and d.daily_uncapped is not None and p.line.line.cap_text is None:
        return (f" ({fmt(d.hi)} {unit} at most a dose, {fmt(d.daily or 0.0)} {unit} a day "
                f"as written for each time ({freq.text}{prn}))")
    if days == 1 and d.daily_uncapped is not None:
        return (f" ({fmt(d.hi)} {unit} a dose, {freq.text}{prn}, within the written maximum "
                f"{p.line.line.cap_text!r}; {fmt(d.daily_uncapped)} {unit}/day by the "
                "frequency alone)")
    return f" ({fmt(d.hi)} {unit} x {freq.in_period(days)} administrations, {freq.text}{prn})"


def _written_cap_above(e: Ingredient, lim: Limit, routed: list[Portion], amount: float,
                       unit: str, out: Out) -> None:
    """MR012: a written daily maximum that allows more than the labeled maximum per day."""
    for p in routed:
        d = p.dose
        if (d is None or d.cap_daily is None or p.line.line.cap_text is None
                or d.cap_daily <= amount * (1 + 1e-9)):
            continue
        src = lim.cited.cite
        out.emit("MR012", "warning", (e.id,), (p.pos,),
                 f"{e.name}: the written maximum {p.line.line.cap_text!r} allows "
                 f"{fmt(d.cap_daily)} {unit}/day, above the {lim.labeled('maximum')} of "
                 f"{fmt(amount)} {unit}/day ({src})", src)


def _fits_alternative(p: Portion, lim: Limit, days: int) -> bool:
    """A labeled alternative (indication, formulation) compares only with a line of that
    formulation dosed on the same time scale: a weekly dose is not a daily regimen."""
    if lim.when is not None and not lim.when.matches_formulation(p.line.line.formulation):
        return False
    freq = p.dose.frequency if p.dose is not None else None
    return freq is not None and freq.scale_days <= days


def _across_formulations(e: Ingredient, dosed: list[Portion], unit: str, out: Out) -> None:
    """MR301 for lines of different formulations (gabapentin IR and Gralise): each line is
    held to its own formulation's maximum, and their sum to the largest of those maxima (no
    label allows more of the ingredient a day than that)."""
    forms = {p.dose.formulation for p in dosed if p.dose is not None}
    if len(forms) < 2:
        return
    best: tuple[float, Limit] | None = None
    for lim in e.limits:
        if (lim.kind != "period" or lim.period != "day" or lim.when is not None
                or lim.unit is None or not lim.formulations or not forms & set(lim.formulations)):
            continue
        amount = e.convert(lim.amount, lim.unit, unit)
        if best is None or amount > best[0]:
            best = (amount, lim)
    if best is None:
        return
    amount, lim = best
    routed = [p for p in dosed if lim.route_ok(p.line.route)]
    total = sum((p.dose.total_in(1) if p.dose else None) or 0.0 for p in routed)
    if len(routed) < 2 or total <= amount * (1 + 1e-9):
        return
    src = lim.cited.cite
    kinds = ", ".join(sorted(f or "?" for f in forms))
    out.emit("MR301", lim.severity, (e.id,), [p.pos for p in routed],
             f"{e.name}: worst case {fmt(total)} {unit}/day across {len(routed)} lines of "
             f"different formulations ({kinds}: {contributions_text(routed, 1, unit)}) exceeds "
             f"the largest labeled maximum of any of them, {fmt(amount)} {unit}/day ({src})",
             src)


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
    some = ""
    if e.per_kg_limits:
        extra += "; a maximum per kg is checked when a weight is given"
        some = " for every patient"
    if any(lim.kind == "period" and lim.when is not None for lim in e.limits):
        extra += "; maxima for some patients (age, kidney function) are checked when they apply"
        some = " for every patient"
    out.emit("MR004", "info", (e.id,), [p.pos for p in dosed],
             f"{e.name}: no labeled maximum per day on file{some}, so the daily total was not "
             f"compared with a limit{extra}")
