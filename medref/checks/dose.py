"""One dose against its limits: per dose, administrations a day, the seed's typical range.

MR101 (a single dose above the maximum per dose), MR103 (more administrations a day than the
label allows), MR104/MR105 (below or above the seed's typical range; info).
"""

from __future__ import annotations

from medref.checks.base import (
    CONDITION_READS,
    KeyFn,
    LineCheck,
    Out,
    applies,
    assumed_formulation,
    assumed_strength,
    conditions_key,
    egfr_note,
    formulation_note,
)
from medref.codes import Code
from medref.context import Context
from medref.dosing import DoseFacts, ResolvedLine
from medref.knowledge import PERIOD_DAYS, Knowledge, Product, fmt

MR101 = Code("MR101", "dose-high", ("info", "warning", "error"),
             "A single dose exceeds the maximum per dose (info when the maximum belongs to a "
             "labeled alternative the line does not state).")
MR103 = Code("MR103", "daily-max", ("info", "warning", "error"),
             "More administrations per day (or per week, for a weekly drug) than the label "
             "allows.")
MR104 = Code("MR104", "dose-low", ("info",), "The dose is below the seed's typical range.")
MR105 = Code("MR105", "dose-high", ("info",),
             "The dose is above the seed's typical range but within the labeled limits.")

_KINDS = ("single", "administrations")


class DoseLimits(LineCheck):
    """MR101, MR103: each dose against its ingredient's per-dose and per-day-count limits."""

    name = "dose-limits"
    codes = (MR101, MR103)
    reads = CONDITION_READS

    def key(self, line: ResolvedLine, kb: Knowledge) -> KeyFn | None:
        """How the context meets the conditions of these limits."""
        return conditions_key([lim.when for d in line.doses for lim in d.ingredient.limits
                               if lim.kind in _KINDS and lim.when is not None])

    def run(self, line: ResolvedLine, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Compare each dose with the single-dose and administrations limits (none for a
        line whose amounts are per day: a dispensing claim has no dose per
        administration)."""
        if line.line.per_day:
            return
        for dose in line.doses:
            self._dose(line, dose, ctx, out)

    @staticmethod
    def _dose(line: ResolvedLine, d: DoseFacts, ctx: Context, out: Out) -> None:
        e = d.ingredient
        freq = line.line.frequency
        for lim in e.limits:
            if (lim.kind not in _KINDS or not lim.route_ok(line.route)
                    or not lim.formulation_ok(d.formulation)):
                continue
            how = applies(lim.when, ctx, out, (0,), f"{e.id} {lim.kind} maximum")
            if how is None or (how == "qualified" and lim.when is not None
                               and not lim.when.matches_formulation(line.line.formulation)):
                continue
            label = (lim.labeled("maximum") if how == "default" else
                     f"maximum for {lim.when.text() if lim.when else ''}"
                     f"{egfr_note(lim.when, ctx)}")
            if lim.routes and how == "default":
                label += f" for {'/'.join(r.upper() for r in lim.routes)}"
            sev = lim.severity if how != "qualified" else "info"
            if lim.label and how == "default" and sev != "error":
                label += f" ({lim.label})"  # what a limit short of a hard one rests on
            label += formulation_note(lim.formulations, (line,))
            sev, assumed = assumed_strength(sev, (line,))
            src = lim.cited.cite
            if lim.kind == "single" and lim.unit is not None:
                amount = e.convert(lim.amount, lim.unit, d.unit)
                if d.hi > amount * (1 + 1e-9):
                    sev, other = assumed_formulation(sev, e, lim, (line,), d.hi, d.unit)
                    out.emit("MR101", sev, (e.id,), (0,),
                             f"{e.name}: single dose {fmt(d.hi)} {d.unit} exceeds the {label} "
                             f"of {fmt(amount)} {d.unit} per dose{assumed}{other} ({src})", src)
            elif lim.kind == "administrations" and freq is not None:
                per = lim.period or "day"
                n = freq.per_day_max if per == "day" else freq.in_period(PERIOD_DAYS[per])
                if n > lim.amount:
                    out.emit("MR103", sev, (e.id,), (0,),
                             f"{e.name}: up to {n} administrations a {per} ({freq.text}) "
                             f"exceeds the {label} of {fmt(lim.amount)} a {per}{assumed} "
                             f"({src})", src)


class TypicalRange(LineCheck):
    """MR104, MR105: each dose against the seed's typical range (info)."""

    name = "typical-range"
    codes = (MR104, MR105)

    def run(self, line: ResolvedLine, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Compare each dose with its ingredient's typical range (the seed's ranges are for
        the single agent in its usual formulation: not for a combination product's parts or
        another formulation)."""
        if line.line.per_day or (isinstance(line.product, Product)
                                 and len(line.product.ingredients) > 1):
            return
        for d in line.doses:
            t = d.ingredient.typical
            if t is None or (d.formulation or "IR") != (d.ingredient.default_formulation
                                                        or "IR"):
                continue
            e = d.ingredient
            lo = e.convert(t.min, t.unit, d.unit)
            hi = e.convert(t.max, t.unit, d.unit)
            if (t.basis == "administration" and t.frequency == "qd" and d.average
                    and d.daily is not None):
                value, per = d.daily, "per day on average"  # 50,000 IU monthly vs a daily dose
            elif t.basis == "administration":
                value, per = d.hi, "per dose"
            elif d.daily is None:
                continue
            else:
                value, per = d.daily, "per day"
            per_range = "per day" if per == "per day on average" else per
            rng = (f"{fmt(lo)}-{fmt(hi)} {d.unit} {per_range}" if lo != hi
                   else f"{fmt(lo)} {d.unit} {per_range}")
            if value < lo * (1 - 1e-9):
                out.emit("MR104", "info", (e.id,), (0,),
                         f"{e.name}: {fmt(value)} {d.unit} {per} is below the seed's typical "
                         f"range of {rng}", "seed document")
            elif value > hi * (1 + 1e-9):
                out.emit("MR105", "info", (e.id,), (0,),
                         f"{e.name}: {fmt(value)} {d.unit} {per} is above the seed's typical "
                         f"range of {rng}", "seed document")
