"""Opioid morphine milligram equivalents: per line (MR307 when it cannot be computed) and the
regimen total against the policy's thresholds (MR305, MR306)."""

from __future__ import annotations

import operator

from medref import dosing
from medref.checks.base import (
    Emit,
    LineCheck,
    Out,
    RegimenCheck,
    RegimenView,
    assumed_strength,
)
from medref.codes import Code
from medref.context import Context
from medref.dosing import ResolvedLine
from medref.knowledge import Knowledge, fmt

MR305 = Code("MR305", "opioid-mme", ("warning",),
             "Total opioid MME/day at or above the CDC threshold to reassess (50): a threshold, "
             "not a limit.")
MR306 = Code("MR306", "opioid-mme", ("warning",),
             "Total opioid MME/day at or above the higher CDC threshold (90): a threshold to "
             "reassess and justify, not a limit.")
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


MEMO_SIZE = 1_024
"""Opioid line sets whose MME finding is remembered (cleared when full)."""


class TotalMme(RegimenCheck):
    """MR305, MR306: the regimen's worst-case MME/day at or above the policy thresholds."""

    name = "total-mme"
    codes = (MR305, MR306)

    def relevant_ingredients(self, kb: Knowledge) -> frozenset[str] | None:
        """The ingredients with an MME factor (only their lines have an MME)."""
        return kb.mme_ids

    def run(self, regimen: RegimenView, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Sum the opioid lines' MME/day and compare with the thresholds."""
        lines = regimen.lines
        at = tuple([i for i, ln in enumerate(lines) if ln.mme is not None])
        if not at:
            return
        opioids = tuple([lines[i] for i in at])
        total = sum([ln.mme or 0.0 for ln in opioids])
        if total < kb.policy.mme_warning.value:
            return
        # the finding depends only on the opioid lines (their order included): remembered
        # by the lines' identity, the lines themselves kept with it (no id is reused while
        # the memo holds them)
        key = tuple(map(id, opioids))
        hit = out.memo.get(key)
        if (isinstance(hit, tuple) and len(hit[0]) == len(opioids)
                and all(map(operator.is_, hit[0], opioids))):
            for e in hit[1:]:  # the same findings, at this regimen's lines (ascending)
                out.add(Emit(e.code, e.severity, e.items, at, e.message, e.source))
            return
        before = len(out.emits)
        self._emit(list(zip(at, opioids, strict=True)), total, kb, out)
        if len(out.memo) >= MEMO_SIZE:
            out.memo.clear()
        out.memo[key] = (opioids, *out.emits[before:])

    @staticmethod
    def _emit(parts: list[tuple[int, ResolvedLine]], total: float, kb: Knowledge,
              out: Out) -> None:
        pol = kb.policy
        warn, high = pol.mme_warning.value, pol.mme_high.value
        table = pol.mme_factor_table
        each = [(ing, mme) for _, ln in parts for ing, mme in ln.mme_parts()]
        detail = " + ".join(f"{ing.name.lower()} {fmt(mme)}" for ing, mme in each)
        ids = sorted({ing.id for ing, _ in each})
        lines = [i for i, _ in parts]
        _, assumed = assumed_strength("warning", [ln for _, ln in parts])
        if total >= high:
            src = pol.mme_high.cited.cite
            out.emit("MR306", "warning", ids, lines,
                     f"opioids: worst case {fmt(total)} MME/day ({detail}) is at or above "
                     f"{fmt(high)} MME/day, where overdose risk rises further (CDC 2022: a "
                     f"threshold to reassess, not a limit): avoid increasing without careful "
                     f"justification, offer naloxone{assumed} ({table}; {src})", src)
        else:
            src = pol.mme_warning.cited.cite
            out.emit("MR305", "warning", ids, lines,
                     f"opioids: worst case {fmt(total)} MME/day ({detail}) is at or above "
                     f"{fmt(warn)} MME/day (CDC 2022: a threshold to reassess, not a limit): "
                     f"reassess benefit and risk, consider naloxone"
                     f"{assumed} ({table}; {src})", src)
