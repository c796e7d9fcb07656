"""Could the line be read and checked at all? (MR001-MR007)

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
from medref.knowledge import Knowledge, fmt

MR001 = Code("MR001", "unparseable", ("warning",),
             "A line could not be read, or holds an impossible value (q0h, a negative dose); "
             "nothing on it was checked.")
MR002 = Code("MR002", "unknown-item", ("warning",),
             "The name matches no entry, alias or recognised agent (with the closest known "
             "names, or 'no close match').")
MR003 = Code("MR003", "unverifiable", ("warning",),
             "The line has no dose, so no dose or daily limit was checked.")
MR004 = Code("MR004", "unverifiable", ("warning",),
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


class Readability(LineCheck):
    """MR001-MR007: what kept a line from being read or checked in full."""

    name = "readability"
    codes = (MR001, MR002, MR003, MR004, MR005, MR006, MR007)

    def run(self, line: ResolvedLine, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Record why the line could not be read or fully checked."""
        ln, e, blocker = line.line, line.product, line.blocker
        if blocker == dosing.UNREADABLE:
            part = f" ({ln.error_part!r})" if ln.error_part else ""
            out.emit("MR001", "warning", (), (0,),
                     f"the line could not be read: {ln.error or 'not understood'}{part}; "
                     "nothing on it was checked")
            return
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
        if blocker == dosing.SCREENING:
            what = ("recognised for screening only; no dosing on file" if e.kind == "watch"
                    else "no dose to check on file (" + (e.regulatory or "not a dosed drug")
                    + ")")
            out.emit("MR004", "warning", (e.id,), (0,), f"{e.name}: no limit on file: {what}")
        elif blocker == dosing.NO_DOSE:
            out.emit("MR003", "warning", (e.id,), (0,),
                     f"{e.name}: no dose on the line, so no dose or daily limit was checked")
        elif blocker == dosing.UNIT:
            why = ("a count of tablets or capsules without a strength"
                   if ln.unit in ("tablet", "capsule")
                   else f"{ln.unit!r} cannot be compared with {e.unit!r}")
            out.emit("MR005", "warning", (e.id,), (0,),
                     f"{e.name}: dose {fmt(ln.dose or 0.0)} {ln.unit} not checked: {why}")
        elif blocker == dosing.NO_FREQUENCY:
            out.emit("MR006", "warning", (e.id,), (0,),
                     f"{e.name}: no frequency on the line, so the worst-case daily total was "
                     "not checked (the single dose was)")
