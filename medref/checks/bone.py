"""Bone-healing concerns (MR201): raised for a high dose or inside the early healing window."""

from __future__ import annotations

from collections.abc import Hashable

from medref.checks.base import IngredientCheck, IngredientGroup, KeyFn, Out, raise_severity
from medref.codes import Code
from medref.context import Context
from medref.knowledge import Ingredient, Knowledge, fmt

MR201 = Code("MR201", "bone-healing", ("info", "warning"),
             "A bone-healing concern, raised one severity for a high dose or inside the early "
             "healing window (NSAIDs); at most a warning (the evidence is observational).")


class BoneHealing(IngredientCheck):
    """MR201: an ingredient with a bone-healing concern, at the severity its dose and the
    weeks since surgery call for."""

    name = "bone-healing"
    codes = (MR201,)
    reads = frozenset({"weeks_since_surgery"})

    def key(self, ingredient: Ingredient, kb: Knowledge) -> KeyFn | None:
        """For an NSAID, the weeks since surgery inside the early window (outside it they
        change nothing; not given is its own key)."""
        e = ingredient
        if e.bone_healing.concern == "none" or "nsaid" not in e.classes:
            return None
        window = kb.policy.nsaid_early_window_weeks.value

        def key(ctx: Context) -> Hashable:
            weeks = ctx.weeks_since_surgery
            if weeks is None:
                return None
            return weeks if weeks < window else "outside"
        return key

    def relevant(self, ingredient: Ingredient) -> bool:
        """Ingredients with a bone-healing concern."""
        return ingredient.bone_healing.concern != "none"

    def run(self, group: IngredientGroup, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Report the concern, raised for a high dose or early after surgery."""
        e = group.ingredient
        bh = e.bone_healing
        if bh.concern == "none":
            return
        sev = bh.severity or "warning"
        idx = group.indexes
        reasons = []
        dosed = group.dosed
        if bh.high_dose is not None and bh.high_dose_unit is not None and dosed:
            first = dosed[0].dose
            unit = first.unit if first is not None else ""
            thr = e.convert(bh.high_dose, bh.high_dose_unit, unit)
            total = sum((p.dose.daily if p.dose else None) or 0.0 for p in dosed)
            if total > thr * (1 + 1e-9):
                sev = raise_severity(sev)
                basis = f" ({bh.cited.note})" if bh.cited.note else ""
                reasons.append(f"worst case {fmt(total)} {unit}/day is above the high-dose "
                               f"threshold of {fmt(thr)} {unit}/day{basis}")
        if "nsaid" in e.classes:
            pol = kb.policy.nsaid_early_window_weeks
            window = pol.value
            weeks = ctx.weeks_since_surgery
            if weeks is None:
                out.need("weeks-since-surgery", f"{e.id} early-healing-window severity", idx)
            elif weeks < window:
                sev = raise_severity(sev)
                unsure = "" if pol.cited.verified else (
                    ", medref's operational window, not a published figure")
                reasons.append(f"{fmt(weeks)} weeks since surgery is inside the early healing "
                               f"window of {fmt(window)} weeks{unsure}")
        if sev == "error":
            sev = "warning"  # the alert policy: bone-healing concerns are at most warnings
        why = ("; severity raised: " + "; ".join(reasons)) if reasons else ""
        rationale = bh.rationale.rstrip(".") if why else bh.rationale
        grade = bh.evidence
        if not bh.cited.verified and grade != "unverified":
            grade += ", grade not verified"
        src = bh.cited.cite
        out.emit("MR201", sev, (e.id,), idx,
                 f"{e.name}: bone-healing concern ({bh.concern}, evidence {grade}): "
                 f"{rationale}{why}", src)
