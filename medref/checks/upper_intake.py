"""Supplements against their Tolerable Upper Intake Levels by age band (MR401, MR004), and
one mineral's sources summed against its level (MR402)."""

from __future__ import annotations

from collections.abc import Hashable

from medref.checks.base import (
    IngredientCheck,
    IngredientGroup,
    KeyFn,
    Out,
    RegimenCheck,
    RegimenView,
    assumed_strength,
    contributions_text,
)
from medref.checks.readability import MR004
from medref.codes import Code
from medref.context import Context
from medref.dosing import ResolvedLine
from medref.knowledge import Ingredient, Knowledge, Limit, fmt

MR401 = Code("MR401", "upper-limit", ("warning",),
             "A supplement's daily amount exceeds its Tolerable Upper Intake Level (age band "
             "from --age).")

_SCOPE = {"supplemental": "the limit covers supplements and medicines only",
          "total": "the limit covers total intake, so diet adds to this"}


def _uls(e: Ingredient) -> list[Limit]:
    return [lim for lim in e.limits if lim.kind == "upper-intake"]


class UpperIntake(IngredientCheck):
    """MR401: a supplement's worst-case daily amount against the UL of the patient's age band
    (without an age, the most conservative adult band); MR004 when no UL is on file."""

    name = "upper-intake"
    codes = (MR401, MR004)
    reads = frozenset({"age"})

    def key(self, ingredient: Ingredient, kb: Knowledge) -> KeyFn | None:
        """Whether an age is given, and which of the UL age bands it falls in."""
        uls = _uls(ingredient)
        if ingredient.kind != "supplement" or not uls:
            return None
        bands = [u.when for u in uls]

        def key(ctx: Context) -> Hashable:
            age = ctx.age
            if age is None:
                return None
            return tuple([b is None or b.age_in(age) for b in bands])
        return key

    def relevant(self, ingredient: Ingredient) -> bool:
        """Supplements only."""
        return ingredient.kind == "supplement"

    def run(self, group: IngredientGroup, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Compare the summed daily amount with the UL that applies."""
        e = group.ingredient
        dosed = group.dosed
        if e.kind != "supplement" or not dosed:
            return
        uls = _uls(e)
        idx = [p.pos for p in dosed]
        first = dosed[0].dose
        unit = first.unit if first is not None else ""
        if not uls:
            out.emit("MR004", "info", (e.id,), idx,
                     f"{e.name}: no Tolerable Upper Intake Level on file, so the daily amount "
                     "was not compared with a limit")
            return
        age = ctx.age

        def amount(u: Limit) -> float:
            return e.convert(u.amount, u.unit or unit, unit)

        if age is not None:
            band = [u for u in uls if u.when is None or u.when.age_in(age)]
            if not band:
                bands = "; ".join((u.when.text() if u.when else "") or "all ages" for u in uls)
                out.emit("MR004", "info", (e.id,), idx,
                         f"{e.name}: no Tolerable Upper Intake Level on file for this age "
                         f"(bands on file: {bands})")
                return
            chosen = min(band, key=amount)
            # the band, not the age: the finding reads age only through the bands it falls in
            band_note = f"for {(chosen.when.text() if chosen.when else '') or 'all ages'}"
        else:
            adult = [u for u in uls if u.when is None or u.when.max_age is None
                     or u.when.max_age >= 19]
            chosen = min(adult or uls, key=amount)
            if len({u.amount for u in adult}) > 1:
                out.need("age", f"{e.id} upper-limit age band", idx)
                band_note = "(age not given: the most conservative adult band)"
            else:
                band_note = "for adults"
        limit = amount(chosen)
        total = sum((p.dose.daily if p.dose else None) or 0.0 for p in dosed)
        if total <= limit * (1 + 1e-9):
            return
        sev, assumed = assumed_strength(chosen.severity, [p.line for p in dosed])
        frac = e.elemental_fraction.value if e.elemental_fraction is not None else None
        if e.amount_basis == "ambiguous":
            how = (f"taking the amount as elemental (the line does not say; if it is the salt "
                   f"weight, elemental content is about {fmt(float(frac) * 100)}% of it)"
                   if isinstance(frac, float) else
                   "taking the amount as elemental (the line does not say)")
        elif e.amount_basis == "elemental":
            how = "as elemental"
        else:
            how = "as written"
        scope = _SCOPE.get(chosen.basis or "", "")
        src = chosen.cited.cite
        contrib = (f" ({contributions_text(dosed, 1, unit)})" if len(dosed) > 1 else "")
        avg = [p for p in dosed if p.dose is not None and p.dose.average]
        first_avg = avg[0].dose if avg else None
        if first_avg is not None and len(dosed) == 1 and first_avg.frequency is not None:
            d = first_avg
            contrib = (f" on average ({fmt(d.hi)} {unit} {first_avg.frequency.text} is "
                       f"{fmt(d.daily or 0.0)} {unit}/day averaged over the interval)")
        elif avg:
            contrib += " on average (a dose given less often than daily is averaged)"
        out.emit("MR401", sev, (e.id,), idx,
                 f"{e.name}: {fmt(total)} {unit}/day{contrib} {how} exceeds the Tolerable Upper "
                 f"Intake Level of {fmt(limit)} {unit}/day {band_note}"
                 + (f"; {scope}" if scope else "") + f"{assumed} ({src})", src)


MR402 = Code("MR402", "upper-limit", ("warning",),
             "One mineral from several sources (two calcium or two magnesium products), or "
             "vitamin D as D2 and D3, sums above its Tolerable Upper Intake Level, though each "
             "source alone is within it.")

ELEMENTS = ("calcium", "magnesium", "vitamin-d")
"""Classes whose members supply one nutrient (an element, or vitamin D as D2 or D3): their
(elemental) amounts add up against one UL."""
_NUTRIENT = {"calcium": "Calcium", "magnesium": "Magnesium", "vitamin-d": "Vitamin D"}
_MINERALS = frozenset({"calcium", "magnesium"})

_ELEMENT_OF = ("element-of",)
"""The check's memo key for the ingredient -> element map (a pure function of the knowledge)."""


def _element_map(kb: Knowledge, memo: dict[Hashable, object]) -> dict[str, str]:
    """Each supplement of an element class (with an upper level on file), by id."""
    got = memo.get(_ELEMENT_OF)
    if isinstance(got, tuple) and got[0] is kb:
        found: dict[str, str] = got[1]
        return found
    found = {}
    for el in ELEMENTS:  # only these classes' entries are compiled (not every ingredient)
        for eid in sorted(kb.by_class.get(el, ())):
            e = kb.ingredients[eid]
            if e.kind == "supplement" and _uls(e) and eid not in found:
                found[eid] = el
    memo[_ELEMENT_OF] = (kb, found)
    return found


class ElementTotals(RegimenCheck):
    """MR402: the elemental amounts of one mineral's sources (calcium carbonate with calcium
    citrate, magnesium oxide with magnesium glycinate) summed against its upper level, when
    each source alone is within it (a source above it alone is MR401's)."""

    name = "element-totals"
    codes = (MR402,)
    reads = frozenset({"age"})

    def relevant_ingredients(self, kb: Knowledge) -> frozenset[str] | None:
        """The supplements of an element class."""
        return frozenset(_element_map(kb, {}))

    def run(self, regimen: RegimenView, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Sum each element over its sources and compare with the upper level that applies."""
        groups = regimen.groups
        if len(groups) < 2:
            return
        element_of = _element_map(kb, out.memo)
        by_element: dict[str, list[str]] = {}
        for ing in groups:
            el = element_of.get(ing)
            if el is not None:
                by_element.setdefault(el, []).append(ing)
        for el, ings in by_element.items():
            if len(ings) > 1:
                self._element(el, sorted(ings), regimen, ctx, kb, out)

    @staticmethod
    def _element(element: str, ings: list[str], regimen: RegimenView, ctx: Context,
                 kb: Knowledge, out: Out) -> None:
        age = ctx.age
        parts: list[tuple[int, ResolvedLine, float]] = []
        limits: list[tuple[float, Limit, Ingredient]] = []
        unit = ""
        for ing in ings:
            e = kb.ingredients[ing]
            own = 0.0
            for i in regimen.groups[ing]:
                line = regimen.lines[i]
                d = line.dose_of(ing)
                if d is None or d.daily is None:
                    continue
                if unit and d.unit != unit:
                    return  # not comparable: each line's own findings say why
                unit = d.unit
                own += d.daily
                parts.append((i, line, d.daily))
            uls = _uls(e)
            band = ([u for u in uls if u.when is None or u.when.age_in(age)] if age is not None
                    else [u for u in uls if u.when is None or u.when.max_age is None
                          or u.when.max_age >= 19])
            if not band or not unit:
                continue
            chosen = min(band, key=lambda u: e.convert(u.amount, u.unit or unit, unit))
            limit = e.convert(chosen.amount, chosen.unit or unit, unit)
            if own > limit * (1 + 1e-9):
                return  # one source alone is above its level: MR401 says so
            limits.append((limit, chosen, e))
        if len({i for i, _, _ in parts}) < 2 or not limits:
            return
        total = sum(amount for _, _, amount in parts)
        limit, chosen, e = min(limits, key=lambda x: x[0])
        if total <= limit * (1 + 1e-9):
            return
        lines = sorted({i for i, _, _ in parts})
        if age is None:
            bands = {round(x[0], 6) for x in limits}
            adult_amounts = {round(e2.convert(u.amount, u.unit or unit, unit), 6)
                             for _, _, e2 in limits for u in _uls(e2)
                             if u.when is None or u.when.max_age is None
                             or u.when.max_age >= 19}
            if len(adult_amounts) > 1 or len(bands) > 1:
                out.need("age", f"{element} upper-limit age band (sources summed)", lines)
            band_note = "(age not given: the most conservative adult band)"
        else:
            band_note = f"for {(chosen.when.text() if chosen.when else '') or 'all ages'}"
        each = " + ".join(
            f"{fmt(amount)} {unit} from "
            f"{(ln.text if len(ln.text) <= 40 else ln.text[:37] + '...')!r}"
            for _, ln, amount in parts)
        guessed = [kb.ingredients[i].name for i in ings
                   if kb.ingredients[i].amount_basis == "ambiguous"]
        how = (f" ({', '.join(guessed)} taken as elemental: the line does not say)"
               if guessed else "")
        scope = _SCOPE.get(chosen.basis or "", "")
        src = chosen.cited.cite
        out.emit("MR402", "warning", ings, lines,
                 f"{_NUTRIENT[element]}: {fmt(total)} {unit}/day"
                 f"{' elemental' if element in _MINERALS else ''} from "
                 f"{len(ings)} sources ({each}){how} exceeds the Tolerable Upper Intake "
                 f"Level of {fmt(limit)} {unit}/day {band_note}, though each source alone is "
                 "within it"
                 + (f"; {scope}" if scope else "") + f" ({src})", src)
