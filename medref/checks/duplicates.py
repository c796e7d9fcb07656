"""The same line twice (MR008) and one product on several lines written differently (MR009)."""

from __future__ import annotations

from medref.checks.base import (
    CONDITION_READS,
    IngredientCheck,
    IngredientGroup,
    KeyFn,
    Out,
    RegimenCheck,
    RegimenView,
    conditions_key,
)
from medref.codes import Code
from medref.context import Context
from medref.knowledge import Ingredient, Knowledge

MR008 = Code("MR008", "duplicate-therapy", ("warning",),
             "The same line appears more than once; each copy is counted in the totals.")
MR009 = Code("MR009", "duplicate-therapy", ("warning",),
             "One product on several lines written differently (brand and generic, scheduled "
             "and PRN, two routes): confirm each is intended; amounts are summed where a limit "
             "covers them.")


class SameLine(RegimenCheck):
    """MR008: lines that read the same once normalized."""

    name = "same-line"
    codes = (MR008,)

    def run(self, regimen: RegimenView, ctx: Context, kb: Knowledge, out: Out) -> None:
        """One finding per set of identical lines."""
        lines = regimen.lines
        if len(lines) < 2:
            return
        norms = [ln.norm for ln in lines]
        if len(set(norms)) == len(norms):
            return
        seen: dict[str, list[int]] = {}
        for i, key in enumerate(norms):
            seen.setdefault(key, []).append(i)
        for key, group in seen.items():
            if len(group) < 2 or not key:
                continue
            first = lines[group[0]].product
            where = ", ".join(str(i + 1) for i in group)
            out.emit("MR008", "warning", (first.id,) if first is not None else (), group,
                     f"lines {where} are the same ({key[:60]!r}); each was counted in the "
                     "totals")


class SameProduct(IngredientCheck):
    """MR009: one ingredient on several lines that are not simply the same line (not when
    their sum is above the daily maximum: MR301 says that, line by line)."""

    name = "same-product"
    codes = (MR009,)
    reads = CONDITION_READS

    def key(self, ingredient: Ingredient, kb: Knowledge) -> KeyFn | None:
        """How the context meets the conditions of the daily limits."""
        return conditions_key([lim.when for lim in ingredient.limits
                               if lim.kind == "period" and lim.when is not None])

    def run(self, group: IngredientGroup, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Ask to confirm each line; say whether their amounts were summed."""
        portions = group.portions
        if len(portions) < 2:
            return
        first = portions[0].line.text.casefold().split()
        if all(p.line.text.casefold().split() == first for p in portions):
            return
        e = group.ingredient
        if _over_daily_max(group, ctx):
            return  # MR301 already names every line and its share: one problem, one finding
        routes = sorted({p.line.route or "unstated" for p in portions})
        why = ("their amounts are summed in the totals" if len(routes) == 1 else
               f"they use different routes ({', '.join(routes)}): each route was checked "
               "against its own limits and no limit on file covers the routes combined")
        out.emit("MR009", "warning", (e.id,), group.indexes,
                 f"{e.name} is on {len(portions)} lines written differently (brand and "
                 f"generic, two strengths, scheduled and PRN ...): confirm each is intended; "
                 f"{why}")


def _over_daily_max(group: IngredientGroup, ctx: Context) -> bool:
    """True when the group's lines on one route sum above the enforced maximum per day."""
    dosed = group.dosed
    if len(dosed) < 2 or dosed[0].dose is None:
        return False
    e = group.ingredient
    unit = dosed[0].dose.unit
    route = dosed[0].line.route
    if any(p.line.route != route for p in dosed):
        return False
    found = e.daily_max(route, ctx, unit, dosed[0].dose.formulation)
    if found is None:
        return False
    total = sum((p.dose.daily if p.dose else None) or 0.0 for p in dosed)
    return total > found[0] * (1 + 1e-9)
