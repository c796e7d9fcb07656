"""Supplements against their Tolerable Upper Intake Levels by age band (MR401, MR004)."""

from __future__ import annotations

from collections.abc import Hashable

from medref.checks.base import (
    IngredientCheck,
    IngredientGroup,
    KeyFn,
    Out,
    assumed_strength,
    contributions_text,
)
from medref.checks.readability import MR004
from medref.codes import Code
from medref.context import Context
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
