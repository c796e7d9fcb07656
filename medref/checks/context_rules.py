"""Drug-condition rules for the patient context: renal, hepatic, age, opioid tolerance, the
time since surgery (MR601), and age flags from the AGS Beers Criteria (MR604)."""

from __future__ import annotations

from medref.checks.base import (
    CONDITION_READS,
    IngredientCheck,
    IngredientGroup,
    KeyFn,
    Out,
    applies,
    conditions_key,
    egfr_note,
)
from medref.codes import Code
from medref.context import Context
from medref.knowledge import ContextRule, Ingredient, Knowledge

_RANK = {"info": 0, "warning": 1, "error": 2}

MR601 = Code("MR601", "interaction", ("info", "warning", "error"),
             "A drug-condition rule fired for the patient context (e.g. zoledronic acid with "
             "CrCl below 35; a fentanyl patch in a patient who is not opioid-tolerant).")
BEERS_2023 = "ags-beers-2023"
"""The source id of the 2023 criteria: a row citing only an earlier edition is not called 2023."""

MR604 = Code("MR604", "interaction", ("warning",),
             "Potentially inappropriate in older adults (AGS Beers Criteria 2023, or the edition "
             "the row cites) at age 65 or more: our one-line reason, with the citation.")


class ContextRules(IngredientCheck):
    """MR601 and MR604: each context rule whose every condition the patient context meets."""

    name = "context-rules"
    codes = (MR601, MR604)
    reads = CONDITION_READS

    def key(self, ingredient: Ingredient, kb: Knowledge) -> KeyFn | None:
        """How the context meets the rules' conditions."""
        return conditions_key([r.when for r in ingredient.context_rules])

    def relevant(self, ingredient: Ingredient) -> bool:
        """Ingredients with context rules."""
        return bool(ingredient.context_rules)

    def run(self, group: IngredientGroup, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Fire each rule the context meets; record the values it needs that are not given
        (a Beers flag needs only the age, and is not asked for when the age is not given:
        it applies to older adults, whom a missing age does not make)."""
        e = group.ingredient
        every = group.indexes
        fired: list[tuple[ContextRule, tuple[int, ...]]] = []
        for rule in e.context_rules:
            idx = every
            if rule.when.formulation is not None:  # an ER-only rule: only its ER lines
                idx = [p.pos for p in group.portions if p.dose is not None
                       and rule.when.matches_formulation(p.dose.formulation)]
                if not idx:
                    continue
            if rule.flag == "beers":
                if ctx.age is None or not rule.when.age_in(ctx.age):
                    continue  # for older adults: a missing age is not asked for
                if applies(rule.when, ctx, out, idx, f"{e.id} Beers criterion") != "context":
                    continue  # a Beers row with a kidney threshold needs the CrCl too
                src = rule.cited.cite
                out.emit("MR604", "warning", (e.id,), idx,
                         f"{e.name}: potentially inappropriate at {rule.when.text()}"
                         f"{egfr_note(rule.when, ctx)} (AGS Beers Criteria"
                         f"{' 2023' if BEERS_2023 in rule.cited.sources else ''}: "
                         f"{rule.action}): {rule.message} ({src})", src)
                continue
            how = applies(rule.when, ctx, out, idx, f"{e.id} {rule.action} rule")
            if how != "context":
                continue
            fired.append((rule, tuple(idx)))
        if fired:  # one drug-condition finding per ingredient: every rule that fired
            fired.sort(key=lambda x: -_RANK[x[0].severity])
            lead = fired[0][0]
            parts = [f"{r.action}{_joined(r.when.text())}{egfr_note(r.when, ctx)}: "
                     f"{r.message}" for r, _ in fired]
            src = "; ".join(dict.fromkeys(r.cited.cite for r, _ in fired))
            where = sorted({i for _, at in fired for i in at})
            out.emit("MR601", lead.severity, (e.id,), where,
                     f"{e.name}: " + "; also ".join(parts) + f" ({src})", src)


def _joined(condition: str) -> str:
    """`` with CrCl below 35``, `` within 4 weeks of surgery``, `` when not opioid-tolerant``."""
    if condition.startswith("within"):
        return f" {condition}"
    if condition.startswith(("not ", "opioid-tolerant")):
        return f" when {condition}"
    return f" with {condition}"
