"""Opioid morphine milligram equivalents: per line (MR307 when it cannot be computed) and the
regimen total against the policy's thresholds (MR305, MR306)."""

from __future__ import annotations

from medref import dosing
from medref.checks.base import LineCheck, Out, RegimenCheck, RegimenView, assumed_strength
from medref.codes import Code
from medref.context import Context
from medref.dosing import ResolvedLine
from medref.knowledge import Knowledge, fmt

MR305 = Code("MR305", "opioid-mme", ("warning",),
             "Total opioid MME/day at or above the warning threshold (50).")
MR306 = Code("MR306", "opioid-mme", ("warning", "error"),
             "Total opioid MME/day at or above the high threshold (90).")
MR307 = Code("MR307", "unverifiable", ("warning",),
             "MME/day could not be computed for an opioid line (non-oral route, no dose or "
             "frequency).")


class LineMme(LineCheck):
    """MR307: an opioid line whose MME/day cannot be computed."""

    name = "line-mme"
    codes = (MR307,)

    def run(self, line: ResolvedLine, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Say why the line's MME/day is missing from the total."""
        e = line.product
        if e is None:
            return
        if line.mme_blocker == dosing.MME_ROUTE:
            out.emit("MR307", "warning", (e.id,), (0,),
                     f"{e.name}: MME not computed for route {line.route!r}: the CDC factors "
                     "are for oral dosing")
        elif line.mme_blocker == dosing.MME_DOSE:
            out.emit("MR307", "warning", (e.id,), (0,),
                     f"{e.name}: MME/day not computed (no dose in mg or no frequency on the "
                     "line); the opioid total is incomplete")


class TotalMme(RegimenCheck):
    """MR305, MR306: the regimen's worst-case MME/day at or above the policy thresholds."""

    name = "total-mme"
    codes = (MR305, MR306)

    def run(self, regimen: RegimenView, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Sum the opioid lines' MME/day and compare with the thresholds."""
        parts = [(i, ln) for i, ln in enumerate(regimen.lines) if ln.mme is not None]
        if not parts:
            return
        total = sum(ln.mme or 0.0 for _, ln in parts)
        pol = kb.policy
        warn, high = pol.mme_warning.value, pol.mme_high.value
        if total < warn:
            return
        table = pol.mme_factor_table
        each = [(ing, mme) for _, ln in parts for ing, mme in ln.mme_parts()]
        detail = " + ".join(f"{ing.name.lower()} {fmt(mme)}" for ing, mme in each)
        ids = sorted({ing.id for ing, _ in each})
        lines = [i for i, _ in parts]
        sev_high, assumed = assumed_strength("error", [ln for _, ln in parts])
        if total >= high:
            src = pol.mme_high.cited.cite
            out.emit("MR306", sev_high, ids, lines,
                     f"opioids: worst case {fmt(total)} MME/day ({detail}) is at or above "
                     f"{fmt(high)} MME/day, where overdose risk rises further: a flag, not a "
                     f"limit; reassess benefit and risk, offer naloxone{assumed} ({table}; "
                     f"{src})", src)
        else:
            src = pol.mme_warning.cited.cite
            out.emit("MR305", "warning", ids, lines,
                     f"opioids: worst case {fmt(total)} MME/day ({detail}) is at or above "
                     f"{fmt(warn)} MME/day: reassess benefit and risk, consider naloxone"
                     f"{assumed} ({table}; {src})", src)
