"""What a read line amounts to against the knowledge: its status, route and doses per day.

:func:`resolve` turns a :class:`~medref.regimen.MedicationLine` into a :class:`ResolvedLine`:
each ingredient's amount converted to the unit its limits use, the worst case per day (an
average for doses given less often than daily; no more than a written daily maximum allows),
the formulation and route it is taken by, its MME/day, and, when something could not be
checked, why (:attr:`ResolvedLine.blocker`). It reads no patient context, so one resolution
serves every regimen the line appears in.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from medref.knowledge import Ingredient, Knowledge, Product
from medref.regimen import Frequency, MedicationLine
from medref.text import normalize

UNREADABLE: Final = "unreadable"
UNKNOWN: Final = "unknown"
PROBLEMS: Final = "problems"
SCREENING: Final = "screening"
NO_DOSE: Final = "no-dose"
UNIT: Final = "unit"
NO_FREQUENCY: Final = "no-frequency"
ROUTE: Final = "route"
"""The line names a route the drug or product is not on file for (``ibuprofen ... in each
eye``): no limit on file is for that route, so none is applied."""
BLOCKERS: Final = (UNREADABLE, UNKNOWN, PROBLEMS, SCREENING, ROUTE, NO_DOSE, UNIT,
                   NO_FREQUENCY)
"""Why a line's dose was not (fully) checked, in the order they are tested."""

RATE_UNIT: Final = "mcg/h"
"""A delivery rate (fentanyl patches): its MME factor is per mcg/h, and it holds all day."""
MME_ROUTE: Final = "route"
MME_DOSE: Final = "dose"


class DoseFacts(NamedTuple):
    """One ingredient's dose on a line, in the unit its limits use.

    ``lo``..``hi`` per administration; ``daily`` the worst case per day (None without a
    frequency): for a dose given less often than daily its average (``average``), and never
    more than a written daily maximum allows (``daily_uncapped`` is the frequency's worst case
    when a cap lowered it).
    """

    ingredient: Ingredient
    unit: str
    lo: float
    hi: float
    daily: float | None
    frequency: Frequency | None
    formulation: str | None = None
    average: bool = False
    daily_uncapped: float | None = None
    cap_daily: float | None = None

    def total_in(self, days: float) -> float | None:
        """Worst-case amount within a labeled period of ``days`` (None without a frequency):
        a day is :attr:`daily` (an average for a weekly dose, within a written cap); a week, a
        month or a year counts the dosing interval (``every 4 weeks`` is one dose a month)."""
        if self.frequency is None:
            return None
        if days == 1:
            return self.daily
        return self.hi * self.frequency.in_period(days)


class ResolvedLine(NamedTuple):
    """A line resolved against the knowledge.

    Attributes:
        line: the line as read.
        product: what the line names: an ingredient, or a combination product (None when
            unknown or unreadable).
        status: ``checked``, ``unverifiable``, ``unparseable`` or ``unknown``.
        blocker: why the dose was not (fully) checked (one of :data:`BLOCKERS`), or None.
        route: the line's route, else the product's default route (None before it is known).
        doses: each ingredient dose that could be compared with its limits.
        grouped: True when the line takes part in ingredient and regimen checks (read, known,
            no impossible part).
        mme: worst-case MME/day of the line's opioid ingredients, when it could be computed.
        mme_blocker: why an opioid line's MME/day could not be computed (``route``, ``dose``).
        norm: the normalized text (to spot identical lines).
        formulation: the formulation the limits were chosen by (``IR``, ``ER`` ...).
    """

    line: MedicationLine
    product: Ingredient | Product | None
    status: str
    blocker: str | None
    route: str | None
    doses: tuple[DoseFacts, ...]
    grouped: bool
    mme: float | None
    mme_blocker: str | None
    norm: str
    formulation: str | None = None

    @property
    def text(self) -> str:
        """The line as given."""
        return self.line.text

    @property
    def ingredient_ids(self) -> tuple[str, ...]:
        """The canonical ids of the line's ingredients (grouped lines only)."""
        return tuple(d.ingredient for d in self.line.ingredients) if self.grouped else ()

    def mme_parts(self) -> list[tuple[Ingredient, float]]:
        """Each opioid ingredient of the line with its MME/day (when :attr:`mme` is set)."""
        if self.mme is None:
            return []
        out = []
        for d in self.doses:
            factor = d.ingredient.mme_factor.value if d.ingredient.mme_factor else None
            if isinstance(factor, float) and d.daily is not None:
                out.append((d.ingredient, d.daily * factor))
        return out

    def dose_of(self, ingredient: str) -> DoseFacts | None:
        """The comparable dose of one ingredient on this line, or None."""
        for d in self.doses:
            if d.ingredient.id == ingredient:
                return d
        return None


def _daily(hi: float, freq: Frequency | None) -> tuple[float | None, bool]:
    """The worst case per day and whether it is an average (dosed less often than daily)."""
    if freq is None:
        return None, False
    if freq.scale_days > 1 and not freq.once:
        return hi * freq.average_per_day, True
    return hi * freq.max_in(1), False


def resolve(line: MedicationLine, kb: Knowledge) -> ResolvedLine:
    """Resolve a read line against the knowledge (no patient context is read)."""
    norm = line.norm or normalize(line.text)
    if not line.readable:
        return ResolvedLine(line, None, "unparseable", UNREADABLE, None, (), False, None, None,
                            norm)
    pid = line.product
    product: Ingredient | Product | None = None
    if pid is not None:
        product = kb.ingredients.get(pid) if pid in kb.ingredients else kb.products.get(pid)
    if product is None:
        return ResolvedLine(line, None, "unknown", UNKNOWN, None, (), False, None, None, norm)
    if line.problems:
        return ResolvedLine(line, product, "unparseable", PROBLEMS, None, (), False, None,
                            None, norm)
    status = "unverifiable" if line.unparsed else "checked"
    route = line.route or _form_route(line, product) or _marketed_route(line, kb) or (
        product.route if isinstance(product, Product) else product.default_route)
    if route is not None and not _on_file(route, product):
        alike = _ALIKE.get(route)  # sublingual as by mouth, transdermal as topical ...
        if alike is not None and _on_file(alike, product):
            route = alike
    formulation = line.formulation
    blocker: str | None = None
    doses: list[DoseFacts] = []
    if line.route is not None and route is not None and not _on_file(route, product):
        blocker = ROUTE
    elif isinstance(product, Ingredient) and product.screening_only:
        blocker = SCREENING
    else:
        for ing in line.ingredients:
            comp = kb.ingredients.get(ing.ingredient)
            if comp is None or (comp.screening_only and isinstance(product, Product)):
                continue
            if ing.amount is None or ing.unit is None:
                blocker = blocker or NO_DOSE
                continue
            target = comp.unit
            if target is None or not comp.comparable(ing.unit, target):
                blocker = blocker or UNIT
                continue
            lo = comp.convert(ing.amount, ing.unit, target)
            hi = comp.convert(ing.worst or ing.amount, ing.unit, target)
            freq = line.frequency
            daily, average = _daily(hi, freq)
            if target == RATE_UNIT and freq is not None:
                daily, average = hi, False  # a patch's rate holds all day, whatever its interval
            uncapped, cap = None, _cap_daily(line, comp, lo, ing.unit, target)
            if cap is not None and cap < hi:
                cap = None  # a written maximum below one dose is a slip, never a ceiling
            if cap is not None and daily is not None and cap < daily:
                uncapped, daily = daily, cap
            doses.append(DoseFacts(comp, target, lo, hi, daily, freq, formulation, average,
                                   uncapped, cap))
        if not line.ingredients:
            blocker = NO_DOSE
        if blocker is None and line.frequency is None:
            blocker = NO_FREQUENCY
    if blocker is not None:
        status = "unverifiable"
    mme, mme_blocker = _mme(product, route, doses)
    return ResolvedLine(line, product, status, blocker, route, tuple(doses), True, mme,
                        mme_blocker, norm, formulation)


def _marketed_route(line: MedicationLine, kb: Knowledge) -> str | None:
    """The route of the marketed product a line names (Rybelsus: by mouth, where its
    ingredient, semaglutide, is injected by default), or None."""
    if line.marketed is None:
        return None
    marketed = kb.products.get(line.marketed)
    return marketed.route if marketed is not None else None


_ALIKE: Final = {"sl": "po", "transdermal": "topical", "topical": "transdermal"}
"""A route a drug is not on file for, read as one it is (the same limits hold): a tablet
under the tongue as by mouth (lorazepam, morphine: the oral maximum and MME), a patch coded
transdermal as topical (lidocaine) and the other way round. The line says which route was
used (MR010)."""


def _on_file(route: str, product: Ingredient | Product) -> bool:
    """True when ``route`` is one the drug (or the product) is on file for."""
    if isinstance(product, Product):
        return route == product.route
    return not product.routes or route in product.routes


def _form_route(line: MedicationLine, product: Ingredient | Product) -> str | None:
    """A line whose form says how it is given but names no route: an injection
    (``6 mg injection``, ``autoinjector``) takes the drug's one injectable route
    (sumatriptan: subcutaneous), a patch its one route through the skin (estradiol:
    transdermal), a puff its inhaled route, a spray its nasal one, a drop its eye one, so
    that route's limits apply, not the oral ones. None when the drug has none or several
    such routes."""
    if not isinstance(product, Ingredient):
        return None
    routes = _FORM_ROUTES.get(line.form or line.unit_of_use or "")
    if routes is None:
        return None
    found = [r for r in product.routes if r in routes]
    return found[0] if len(found) == 1 else None


_FORM_ROUTES = {"injection": frozenset({"sc", "im", "iv"}),
                "tablet": frozenset({"po"}), "capsule": frozenset({"po"}),
                "patch": frozenset({"transdermal", "topical"}),
                "puff": frozenset({"inhaled"}), "spray": frozenset({"intranasal"}),
                "drop": frozenset({"ophthalmic"})}


def _cap_daily(line: MedicationLine, ing: Ingredient, lo: float, unit: str, target: str
               ) -> float | None:
    """The most of an ingredient a written daily maximum allows (``max 8 tabs a day`` of
    500 mg tablets: 4,000 mg), in ``target`` units; None without a cap per day."""
    if line.slot_units is not None and line.units:
        return line.slot_units * lo / line.units  # "1 mane 2 nocte": 3 units a day
    if not line.cap_per_day:
        return None
    if line.cap_units is not None and line.units:
        return line.cap_units * lo / line.units
    if (line.cap_amount is not None and line.cap_amount_unit is not None
            and len(line.ingredients) == 1 and ing.comparable(line.cap_amount_unit, target)):
        return ing.convert(line.cap_amount, line.cap_amount_unit, target)
    return None


def _mme(product: Ingredient | Product, route: str | None, doses: list[DoseFacts]
         ) -> tuple[float | None, str | None]:
    """A line's worst-case MME/day over its opioid ingredients (CDC factors are for oral
    dosing), or why it cannot be computed."""
    opioid = [d for d in doses if d.ingredient.mme_factor is not None]
    named_opioid = isinstance(product, Ingredient) and product.mme_factor is not None
    if not opioid and not named_opioid:
        return None, None
    rate = bool(opioid) and all(d.unit == RATE_UNIT for d in opioid)
    if route not in (None, "po") and not (rate and route == "transdermal"):
        return None, MME_ROUTE
    total = 0.0
    for d in opioid:
        factor = d.ingredient.mme_factor.value if d.ingredient.mme_factor else None
        if d.daily is None or d.unit not in ("mg", RATE_UNIT) or not isinstance(factor, float):
            return None, MME_DOSE
        total += d.daily * factor
    if not opioid:
        return None, MME_DOSE
    return total, None
