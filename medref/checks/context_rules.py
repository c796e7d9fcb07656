"""Drug-condition rules for the patient context (MR601): renal, hepatic, age."""

from __future__ import annotations

from medref.checks.base import IngredientCheck, IngredientGroup, KeyFn, Out, applies, conditions_key
from medref.codes import Code
from medref.context import Context
from medref.knowledge import Ingredient, Knowledge

MR601 = Code("MR601", "interaction", ("info", "warning", "error"),
             "A drug-condition rule fired for the patient context (e.g. zoledronic acid with "
             "CrCl below 35).")


class ContextRules(IngredientCheck):
    """MR601: each context rule whose every condition the patient context meets."""

    name = "context-rules"
    codes = (MR601,)
    reads = frozenset({"age", "crcl", "hepatic_impairment"})

    def key(self, ingredient: Ingredient, kb: Knowledge) -> KeyFn | None:
        """How the context meets the rules' conditions."""
        return conditions_key([r.when for r in ingredient.context_rules])

    def relevant(self, ingredient: Ingredient) -> bool:
        """Ingredients with context rules."""
        return bool(ingredient.context_rules)

    def run(self, group: IngredientGroup, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Fire each rule the context meets; record the values it needs that are not given."""
        e = group.ingredient
        idx = group.indexes
        for rule in e.context_rules:
            how = applies(rule.when, ctx, out, idx, f"{e.id} {rule.action} rule")
            if how != "context":
                continue
            src = rule.cited.cite
            out.emit("MR601", rule.severity, (e.id,), idx,
                     f"{e.name}: {rule.action} with {rule.when.text()}: {rule.message} "
                     f"({src})", src)
