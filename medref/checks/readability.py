"""Could the line be read and checked at all? (MR001-MR007, MR010, MR011, MR013, MR014)

One finding per line that could not be read, names nothing medref knows, or could not be
checked in full (no dose, a unit that cannot be compared, no frequency, a part not understood,
an agent recognised for screening only). Nothing is silently passed as safe.
"""

from __future__ import annotations

from medref import dosing
from medref.checks.base import LineCheck, Out
from medref.codes import Code
from medref.context import Context
from medref.dosing import ResolvedLine
from medref.knowledge import Ingredient, Knowledge, Product, fmt

MR001 = Code("MR001", "unparseable", ("warning",),
             "A line could not be read, or holds an impossible value (q0h, a negative dose); "
             "nothing on it was checked.")
MR002 = Code("MR002", "unknown-item", ("warning",),
             "The name matches no entry, alias or recognised agent (with the closest known "
             "names, or 'no close match').")
MR003 = Code("MR003", "unverifiable", ("warning",),
             "The line has no dose, so no dose or daily limit was checked.")
MR004 = Code("MR004", "unverifiable", ("info",),
             "No limit on file: a therapy with no dose to check, a screening-only agent, no "
             "labeled daily maximum, or no upper intake level.")
MR005 = Code("MR005", "unverifiable", ("warning",),
             "The dose unit cannot be compared with the limits (e.g. tablets without a "
             "strength, mL for a mg limit).")
MR006 = Code("MR006", "unverifiable", ("warning",),
             "No frequency, so the worst-case daily total was not checked (the single dose "
             "was).")
MR007 = Code("MR007", "unparseable", ("warning",),
             "Part of a line was not understood; the rest was checked.")
MR010 = Code("MR010", "unverifiable", ("info",),
             "Part of a dose was assumed: the strongest marketed strength of a product named "
             "without one, one unit a dose when no count is given, the formulation (IR or ER) when "
             "the line does not say, a salt converted to its base or elemental amount.")
MR011 = Code("MR011", "daily-max", ("info",),
             "The line states its own daily maximum; the worst case within it and the worst "
             "case of the frequency are both shown.")
MR014 = Code("MR014", "unverifiable", ("warning",),
             "The line names a route the drug or product is not on file for; no limit was "
             "applied to it (the limits on file are for other routes).")
MR013 = Code("MR013", "unverifiable", ("warning",),
             "An order's written instructions and its coded dosage disagree (FHIR "
             "dosage.text against doseAndRate and timing); the coded dosage was checked.")


class Readability(LineCheck):
    """MR001-MR007: what kept a line from being read or checked in full."""

    name = "readability"
    codes = (MR001, MR002, MR003, MR004, MR005, MR006, MR007, MR010, MR011, MR013, MR014)

    def run(self, line: ResolvedLine, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Record why the line could not be read or fully checked."""
        ln, e, blocker = line.line, line.product, line.blocker
        if blocker == dosing.UNREADABLE:
            part = f" ({ln.error_part!r})" if ln.error_part else ""
            out.emit("MR001", "warning", (), (0,),
                     f"the line could not be read: {ln.error or 'not understood'}{part}; "
                     "nothing on it was checked")
            return
        if ln.conflicts:
            who = e.name if e is not None else (ln.name or "the order")
            out.emit("MR013", "warning", (e.id,) if e is not None else (), (0,),
                     f"{who}: the written instructions and the coded dosage disagree: "
                     + "; ".join(ln.conflicts) + "; the coded dosage was checked")
        if blocker == dosing.UNKNOWN or e is None:
            hint = (f"did you mean {', '.join(ln.suggestions)}?" if ln.suggestions
                    else "no close match")
            out.emit("MR002", "warning", (), (0,),
                     f"{ln.name!r} is not a drug, supplement or therapy medref knows; {hint}; "
                     "nothing on this line was checked")
            return
        if blocker == dosing.PROBLEMS:
            out.emit("MR001", "warning", (e.id,), (0,),
                     f"{e.name}: {'; '.join(ln.problems)}; the line was not checked")
            return
        if ln.unparsed:
            out.emit("MR007", "warning", (e.id,), (0,),
                     f"{e.name}: {' '.join(ln.unparsed)!r} was not understood; the rest of "
                     "the line was checked without it")
        said = [a for a in ln.assumptions
                if "-release assumed" not in a or _formulation_matters(line)]
        if ln.route is not None and line.route is not None and ln.route != line.route:
            said.append(f"route {ln.route!r} read as {line.route!r} (not on file for "
                        f"{ln.route!r}; the same limits hold)")
        if said:
            out.emit("MR010", "info", (e.id,), (0,), f"{e.name}: {'; '.join(said)}")
        self._cap(line, out)
        if blocker == dosing.SCREENING and isinstance(e, Ingredient):
            what = ("recognised for screening only; no dosing on file" if e.kind == "watch"
                    else f"no dose to check on file ({e.regulatory})" if e.regulatory
                    else "no labeled maximum on file, so the dose was not compared with a "
                    "limit")
            out.emit("MR004", "info", (e.id,), (0,), f"{e.name}: no limit on file: {what}")
        elif blocker == dosing.ROUTE:
            on_file = ([e.route] if isinstance(e, Product) else list(e.routes))
            out.emit("MR014", "warning", (e.id,), (0,),
                     f"{e.name}: route {line.route!r} is not one it is on file for "
                     f"({', '.join(on_file)}); no limit was applied to this line")
        elif blocker == dosing.NO_DOSE:
            out.emit("MR003", "warning", (e.id,), (0,),
                     f"{e.name}: no dose on the line, so no dose or daily limit was checked")
        elif blocker == dosing.UNIT:
            unit = e.unit if isinstance(e, Ingredient) else None
            why = ("a count of tablets or capsules without a strength"
                   if ln.unit in ("tablet", "capsule", "caplet", "each")
                   else f"{ln.unit!r} cannot be compared with {unit!r}")
            out.emit("MR005", "warning", (e.id,), (0,),
                     f"{e.name}: dose {fmt(ln.dose or 0.0)} {ln.unit} not checked: {why}")
        elif blocker == dosing.NO_FREQUENCY:
            out.emit("MR006", "warning", (e.id,), (0,),
                     f"{e.name}: no frequency on the line, so the worst-case daily total was "
                     "not checked (the single dose was)")

    @staticmethod
    def _cap(line: ResolvedLine, out: Out) -> None:
        """MR011: a written daily maximum, with the worst case within it and without it."""
        ln, e = line.line, line.product
        if ln.cap_text is None or e is None:
            return
        if not ln.cap_per_day:
            out.emit("MR011", "info", (e.id,), (0,),
                     f"{e.name}: the line says {ln.cap_text!r} without a period; it is shown, "
                     "not applied (the worst case is the frequency's)")
            return
        parts = []
        for d in line.doses:
            if d.cap_daily is None or d.frequency is None:
                continue
            free = d.daily_uncapped if d.daily_uncapped is not None else d.daily
            parts.append(f"{d.ingredient.name.lower()} {fmt(d.cap_daily)} {d.unit}/day within "
                         f"the written maximum, {fmt(free or 0.0)} {d.unit}/day by the "
                         f"frequency ({d.frequency.text})")
        if parts:
            out.emit("MR011", "info", (e.id,), (0,),
                     f"{e.name}: the line sets its own maximum ({ln.cap_text}): "
                     + "; ".join(parts) + "; the limits were checked within the written maximum")


def _formulation_matters(line: ResolvedLine) -> bool:
    """True when the formulation a line was assumed to have may make a finding false: its
    dose is above the assumed formulation's labeled limits (per dose, per day,
    administrations) and within another's (``acetaminophen 1300 mg q8h`` is how Tylenol 8 HR
    is taken). Otherwise the assumption is recorded on the item but not reported."""
    freq = line.line.frequency
    for d in line.doses:
        forms = {f for lim in d.ingredient.limits for f in (lim.formulations or ())}
        if not forms:
            continue
        assumed = d.formulation or "IR"
        verdicts: dict[str, bool] = {}
        for form in forms | {assumed}:
            over = []
            for lim in d.ingredient.limits:
                if (lim.when is not None or (lim.unit is None and lim.kind != "administrations")
                        or not lim.formulation_ok(form) or not lim.route_ok(line.route)):
                    continue
                if lim.kind == "single" and lim.unit is not None:
                    over.append(d.hi > d.ingredient.convert(lim.amount, lim.unit, d.unit))
                elif lim.kind == "period" and lim.period == "day" and lim.unit is not None:
                    over.append(d.daily is not None and d.daily > d.ingredient.convert(
                        lim.amount, lim.unit, d.unit))
                elif (lim.kind == "administrations" and freq is not None
                      and lim.period in (None, "day")):
                    over.append(freq.per_day_max > lim.amount)
            verdicts[form] = any(over)
        if verdicts[assumed] and not all(verdicts.values()):
            return True
    return False
