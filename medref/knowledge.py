"""Compiled knowledge: the reference data as frozen, typed objects the checks read.

The data files are validated by the pydantic authoring models in :mod:`medref.models` (or
trusted when their bytes match the validated manifest); :func:`compile_knowledge` then turns
the validated JSON into the immutable objects below, once per data set. Checks read only these
objects: no raw dicts, no defaults restated by hand (each default here equals the authoring
model's, and ``tests/test_knowledge.py`` compares them field by field).

This module imports no pydantic, so the CLI starts fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from itertools import permutations
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from medref.context import Context
from medref.units import comparable, convert

SEVERITY_DEFAULT = "error"
"""A limit's severity when the data leaves it unset (the authoring model's default)."""

PERIOD_DAYS: Mapping[str, int] = MappingProxyType({"day": 1, "week": 7, "month": 30,
                                                   "year": 365})
"""Days in each limit period (month = 30, year = 365)."""

CONTEXT_FIELDS = ("age", "crcl", "hepatic_impairment", "weeks_since_surgery", "weight", "egfr",
                  "opioid_tolerant")
"""Patient-context fields a check may read (the fields of :class:`medref.context.Context`)."""


def fmt(x: float) -> str:
    """Format an amount for a message: ``4,600``, ``0.075``, ``1.5``."""
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if x == int(x):
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.1f}".rstrip("0").rstrip(".")
    return f"{x:.3f}".rstrip("0").rstrip(".")


class Source(NamedTuple):
    """A cited source (``data/sources.json``)."""

    id: str
    kind: str
    short: str
    citation: str


class Condition(NamedTuple):
    """When a limit or rule applies. Unset fields do not restrict.

    Age bounds are inclusive whole years; ``crcl_below`` is strict (mL/min). ``indication``,
    ``formulation`` and ``first_day`` qualify a labeled alternative that a sig line does not
    state.
    """

    min_age: int | None = None
    max_age: int | None = None
    crcl_below: float | None = None
    hepatic_impairment: bool | None = None
    indication: str | None = None
    formulation: str | None = None
    first_day: bool | None = None
    opioid_tolerant: bool | None = None
    max_weeks_since_surgery: float | None = None
    weight_below: float | None = None
    renal_egfr: bool | None = None
    """``crcl_below`` is the label's eGFR threshold (an eGFR is compared directly)."""

    @property
    def reads(self) -> frozenset[str]:
        """The context fields this condition reads."""
        out = set()
        if self.min_age is not None or self.max_age is not None:
            out.add("age")
        if self.crcl_below is not None:
            out.update(("crcl", "egfr"))
        if self.hepatic_impairment is not None:
            out.add("hepatic_impairment")
        if self.opioid_tolerant is not None:
            out.add("opioid_tolerant")
        if self.max_weeks_since_surgery is not None:
            out.add("weeks_since_surgery")
        if self.weight_below is not None:
            out.add("weight")
        return frozenset(out)

    @property
    def qualified(self) -> bool:
        """True when the condition names an indication, formulation or first day."""
        return (self.indication is not None or self.formulation is not None
                or self.first_day is not None)

    def outcomes(self, ctx: Context) -> tuple[tuple[str, bool | None], ...]:
        """How ``ctx`` meets each context field of this condition, in a fixed order:
        ``(what, met)`` with ``met`` None when the value it needs is not given. Empty when the
        condition reads no patient context."""
        out: list[tuple[str, bool | None]] = []
        lo, hi = self.min_age, self.max_age
        if lo is not None or hi is not None:
            age = ctx.age
            out.append(("age", None if age is None else
                        (lo is None or age >= lo) and (hi is None or age <= hi)))
        if self.crcl_below is not None:
            if self.renal_egfr:  # the label's threshold is an eGFR: a CrCl in its place (said)
                if ctx.egfr is not None:
                    out.append(("egfr", ctx.egfr < self.crcl_below))
                else:
                    out.append(("crcl", None if ctx.crcl is None
                                else ctx.crcl < self.crcl_below))
            elif ctx.crcl is None and ctx.egfr is not None:  # eGFR in place of CrCl (said)
                out.append(("egfr-for-crcl", ctx.egfr < self.crcl_below))
            else:
                out.append(("crcl", None if ctx.crcl is None else ctx.crcl < self.crcl_below))
        if self.hepatic_impairment is not None:
            out.append(("hepatic-impairment", None if ctx.hepatic_impairment is None else
                        ctx.hepatic_impairment == self.hepatic_impairment))
        if self.opioid_tolerant is not None:
            out.append(("opioid-tolerant", None if ctx.opioid_tolerant is None else
                        ctx.opioid_tolerant == self.opioid_tolerant))
        if self.max_weeks_since_surgery is not None:
            w = ctx.weeks_since_surgery
            out.append(("weeks-since-surgery", None if w is None else
                        w <= self.max_weeks_since_surgery))
        if self.weight_below is not None:
            out.append(("weight", None if ctx.weight is None else ctx.weight < self.weight_below))
        return tuple(out)

    def age_in(self, age: int) -> bool:
        """True when ``age`` is inside this condition's age band (no band: every age)."""
        return ((self.min_age is None or age >= self.min_age)
                and (self.max_age is None or age <= self.max_age))

    def text(self) -> str:
        """Plain words for the condition: ``age 65 and over, CrCl below 30 mL/min``."""
        parts = []
        if self.min_age is not None and self.max_age is not None:
            parts.append(f"age {self.min_age}-{self.max_age}")
        elif self.min_age is not None:
            parts.append(f"age {self.min_age} and over")
        elif self.max_age is not None:
            parts.append(f"age {self.max_age} and under")
        if self.crcl_below is not None:
            parts.append(f"eGFR below {fmt(self.crcl_below)} mL/min/1.73 m2" if self.renal_egfr
                         else f"CrCl below {fmt(self.crcl_below)} mL/min")
        if self.hepatic_impairment:
            parts.append("hepatic impairment")
        if self.opioid_tolerant is not None:
            parts.append("opioid-tolerant" if self.opioid_tolerant else "not opioid-tolerant")
        if self.max_weeks_since_surgery is not None:
            parts.append(f"within {fmt(self.max_weeks_since_surgery)} weeks of surgery")
        if self.weight_below is not None:
            parts.append(f"weight below {fmt(self.weight_below)} kg")
        for v in (self.indication, self.formulation):
            if v:
                parts.append(v)
        if self.first_day:
            parts.append("first day")
        return ", ".join(parts)

    def matches_formulation(self, stated: str | None) -> bool:
        """A formulation-qualified condition applies only to a line naming that formulation
        (``ER``, ``OTC`` ...); a condition without one applies to any line."""
        text = self.formulation or ""
        if not text:
            return True
        if stated is None:
            return False
        low = text.lower()
        if stated == "ER":
            return "extended" in low or "er" in low.replace("(", " ").split()
        return stated.lower() in low.split() or stated.lower() in low


class Cited(NamedTuple):
    """Provenance of a fact: its sources, whether they were checked, and the short citation
    text shown in findings (``cite``)."""

    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None
    cite: str = ""


class Limit(NamedTuple):
    """A labeled (or guideline) maximum with its provenance. See :class:`medref.models.Limit`."""

    kind: str
    amount: float
    unit: str | None = None
    period: str | None = None
    routes: tuple[str, ...] | None = None
    formulations: tuple[str, ...] | None = None
    when: Condition | None = None
    severity: str = SEVERITY_DEFAULT
    basis: str | None = None
    label: str | None = None
    cited: Cited = Cited()
    per_kg: bool = False

    def route_ok(self, route: str | None) -> bool:
        """True when the limit covers ``route`` (a limit without routes covers them all)."""
        return not self.routes or (route is not None and route in self.routes)

    def formulation_ok(self, formulation: str | None) -> bool:
        """True when the limit holds for ``formulation`` (a limit without formulations holds
        for all)."""
        return not self.formulations or formulation in self.formulations

    def labeled(self, what: str) -> str:
        """``labeled maximum`` for a verified limit; an unverified one is not called labeled."""
        return f"labeled {what}" if self.cited.verified else what


class Typical(NamedTuple):
    """The seed's typical dose (per administration or per day)."""

    text: str
    min: float
    max: float
    unit: str
    frequency: str
    basis: str = "administration"
    frequency_text: str | None = None
    sources: tuple[str, ...] = ("seed",)


class BoneHealing(NamedTuple):
    """A bone-healing concern (``concern`` none, caution or avoid) with its provenance."""

    concern: str
    rationale: str
    evidence: str
    severity: str | None = None
    high_dose: float | None = None
    high_dose_unit: str | None = None
    cited: Cited = Cited()


class ContextRule(NamedTuple):
    """A patient-context rule that is not a dose limit (contraindicated, avoid, adjust ...)."""

    when: Condition
    action: str
    message: str
    severity: str
    cited: Cited = Cited()
    flag: str | None = None


class SourcedNumber(NamedTuple):
    """A number with its provenance (MME factor, IU per mcg, elemental fraction, RxCUI)."""

    value: float | str
    cited: Cited = Cited()


class Salt(NamedTuple):
    """A salt or compound an ingredient is written as (naproxen sodium), and how much of the
    ingredient one unit of it holds (``base_per_salt``)."""

    names: tuple[str, ...]
    base_per_salt: float
    cited: Cited = Cited()


class Note(NamedTuple):
    """A note on an entry, with its provenance when it has one."""

    text: str
    cited: Cited | None = None


class Ingredient(NamedTuple):
    """One drug, supplement, advanced therapy or recognised agent (an entry of the data files).

    The canonical ``id`` is a public contract. ``unit`` is the unit its amounts are compared in
    (the typical dose's unit, else its first limit's).
    """

    id: str
    kind: str
    name: str
    bone_healing: BoneHealing
    sources: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    default_route: str | None = None
    checkable: bool = True
    typical: Typical | None = None
    limits: tuple[Limit, ...] = ()
    iu_per_mcg: SourcedNumber | None = None
    amount_basis: str | None = None
    elemental_fraction: SourcedNumber | None = None
    mme_factor: SourcedNumber | None = None
    rxcui: SourcedNumber | None = None
    context_rules: tuple[ContextRule, ...] = ()
    salts: tuple[Salt, ...] = ()
    default_formulation: str | None = None
    per_kg_limits: tuple[Limit, ...] = ()
    """Limits per kg of body weight (checked with a weight: MR108, MR109)."""
    function: str | None = None
    mechanism: str | None = None
    side_effects: tuple[str, ...] = ()
    regulatory: str | None = None
    notes: tuple[Note, ...] = ()
    file: str = ""

    @property
    def iu(self) -> float | None:
        """IU per mcg (vitamin D: 40), or None."""
        v = self.iu_per_mcg.value if self.iu_per_mcg is not None else None
        return float(v) if isinstance(v, int | float) else None

    @property
    def unit(self) -> str | None:
        """The unit this ingredient's amounts are compared in."""
        if self.typical is not None:
            return self.typical.unit
        for lim in self.limits + self.per_kg_limits:  # (per-kg limits: mg per kg)
            if lim.unit:
                return lim.unit
        if self.mme_factor is not None:  # CDC MME factors: per mg, or per mcg/h for patches
            return "mcg/h" if self.default_route == "transdermal" else "mg"
        return None

    @property
    def formulation_specific(self) -> bool:
        """True when some of the ingredient's limits hold for some formulations only."""
        return any(lim.formulations for lim in self.limits)

    @property
    def screening_only(self) -> bool:
        """True for agents recognised for screening with no dose to check."""
        return not self.checkable or self.kind == "watch"

    def convert(self, amount: float, frm: str, to: str) -> float:
        """``amount`` from unit ``frm`` to unit ``to`` (IU via this ingredient's factor)."""
        return convert(amount, frm, to, self.iu)

    def comparable(self, frm: str, to: str) -> bool:
        """True when an amount in ``frm`` can be compared with one in ``to``."""
        return comparable(frm, to, self.iu)

    def upper_intake(self, ctx: Context, unit: str | None = None
                     ) -> tuple[float, Limit] | None:
        """The Tolerable Upper Intake Level per day that ``medref check`` compares with
        (MR401): the lowest for the age's band, or without an age the most conservative adult
        band; in ``unit`` (default :attr:`unit`). None when none is on file for the age."""
        target = unit or self.unit
        uls = [lim for lim in self.limits if lim.kind == "upper-intake" and lim.unit]
        if target is None or not uls:
            return None
        if ctx.age is not None:
            band = [u for u in uls if u.when is None or u.when.age_in(ctx.age)]
        else:
            band = [u for u in uls if u.when is None or u.when.max_age is None
                    or u.when.max_age >= 19] or uls
        if not band:
            return None
        found: tuple[float, Limit] | None = None
        for u in band:  # the lowest (the first of equals)
            amount = self.convert(u.amount, u.unit or target, target)
            if found is None or amount < found[0]:
                found = (amount, u)
        return found

    def daily_max(self, route: str | None, ctx: Context, unit: str | None = None,
                  formulation: str | None = None) -> tuple[float, Limit] | None:
        """The enforced maximum per day for a line by ``route`` in ``ctx``, or None.

        The smallest per-day limit that covers the route and applies: a default limit, or a
        context limit whose every condition ``ctx`` meets (qualified alternatives by
        indication, formulation or first day are not the maximum). The amount is in ``unit``
        (default :attr:`unit`).

        Raises:
            ValueError: ``unit`` cannot be compared with a limit's unit.
        """
        target = unit or self.unit
        best: tuple[float, Limit] | None = None
        for lim in self.limits:
            if lim.kind != "period" or lim.period != "day" or not lim.route_ok(route):
                continue
            if not lim.formulation_ok(formulation or self.default_formulation or "IR"):
                continue
            if lim.when is not None:
                if lim.when.qualified:
                    continue
                outcomes = lim.when.outcomes(ctx)
                if not outcomes or not all(met for _, met in outcomes):
                    continue
            if target is None or lim.unit is None:
                continue
            amount = self.convert(lim.amount, lim.unit, target)
            if best is None or amount < best[0]:
                best = (amount, lim)
        return best


class Component(NamedTuple):
    """One ingredient of a product strength, per unit of use: the amount its limits use
    (``amount``: naproxen 500 mg for naproxen sodium 550 mg) and the label's (``written``)."""

    ingredient: str
    amount: float
    unit: str
    written: float
    salt: str | None = None


def _largest(comps: list[Component]) -> Component:
    """The component with the largest amount (the first of equals, as ``max``)."""
    best = comps[0]
    for c in comps[1:]:
        if c.amount > best.amount:
            best = c
    return best


class Strength(NamedTuple):
    """A marketed strength of a product."""

    label: str
    components: tuple[Component, ...]
    legacy: bool = False
    rxcui: str | None = None
    cited: Cited = Cited()


class Product(NamedTuple):
    """A marketed product: names, ingredients, strengths, dose form, formulation, route."""

    id: str
    name: str
    ingredients: tuple[str, ...]
    dose_form: str
    formulation: str
    route: str
    strengths: tuple[Strength, ...]
    aliases: tuple[str, ...] = ()
    named_strengths: tuple[tuple[str, str], ...] = ()
    note: str | None = None
    cited: Cited = Cited()

    def strength(self, label: str) -> Strength | None:
        """The strength with this label, or None."""
        for s in self.strengths:
            if s.label == label:
                return s
        return None

    @property
    def marketed(self) -> tuple[Strength, ...]:
        """The strengths still marketed (not legacy)."""
        return tuple([s for s in self.strengths if not s.legacy])

    def strongest(self) -> Strength:
        """The marketed strength with the most of every ingredient (component-wise largest;
        what a line naming no strength is checked at)."""
        best = self.marketed
        comps = tuple([_largest([s.components[i] for s in best])
                       for i in range(len(self.ingredients))])
        label = "/".join(fmt(c.written) for c in comps)
        match = [s for s in best if s.components == comps]
        return match[0] if match else Strength(label, comps)

    def match(self, amounts: tuple[float, ...]) -> Strength | None:
        """The strength whose written amounts are ``amounts`` (in either order for two
        ingredients: ``325/5`` is ``5/325``), or None."""
        for s in self.strengths:
            written = tuple(c.written for c in s.components)
            if written == amounts or (len(amounts) == 2 and written == amounts[::-1]):
                return s
        return None


class Modifier(NamedTuple):
    """A compiled :class:`medref.models.RuleModifier`: ``mask`` over :attr:`Knowledge.bits`
    for ``present`` selectors (0 when it is an age modifier)."""

    effect: str
    text: str
    mask: int = 0
    min_age: int | None = None
    severity: str | None = None
    cited: Cited = Cited()


class DoseCap(NamedTuple):
    """A pair rule's daily cap of its ``a`` drug (see :class:`medref.models.DoseCap`)."""

    amount: float
    unit: str


class InteractionRule(NamedTuple):
    """A regimen-wide rule (interaction, duplicate therapy or timing), with its selectors
    resolved to the ingredient ids they match (``sel_a`` ...)."""

    id: str
    kind: str
    category: str
    level: str
    severity: str
    title: str
    mechanism: str
    action: str
    a: tuple[str, ...] = ()
    b: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    min_count: int = 2
    cited: Cited = Cited()
    problem: str | None = None
    sel_a: frozenset[str] = frozenset()
    sel_b: frozenset[str] = frozenset()
    sel_members: frozenset[str] = frozenset()
    sel_requires: frozenset[str] = frozenset()
    mask_a: int = 0
    mask_b: int = 0
    mask_members: int = 0
    mask_requires: int = 0
    """The selector sets as bit masks over :attr:`Knowledge.bits` (fast evaluation)."""
    modifiers: tuple[Modifier, ...] = ()
    problem_key: str = ""
    """``category:problem`` (or ``category:id``): rules with one key are one finding."""
    dose_cap: DoseCap | None = None
    """The most of the ``a`` drug a day with the ``b`` drug (the rule reads the dose)."""


class PolicyValue(NamedTuple):
    """A number medref's rules use that is not a per-ingredient limit."""

    value: float
    cited: Cited = Cited()


class Policy(NamedTuple):
    """Regimen-wide thresholds (``data/policy.json``)."""

    mme_factor_table: str
    mme_factor_table_version: str
    mme_table_cited: Cited
    mme_warning: PolicyValue
    mme_high: PolicyValue
    nsaid_early_window_weeks: PolicyValue


class Knowledge(NamedTuple):
    """Every compiled object of one data set. Immutable."""

    sources: Mapping[str, Source]
    ingredients: Mapping[str, Ingredient]
    products: Mapping[str, Product]
    rules: tuple[InteractionRule, ...]
    policy: Policy
    rules_by_ingredient: Mapping[str, tuple[int, ...]]
    """For each ingredient, the indexes (in :attr:`rules`) of the rules that name it."""
    bits: Mapping[str, int]
    """Each ingredient's bit (one bit per ingredient, in file order)."""
    bit_ids: tuple[str, ...]
    """The ingredient id of each bit position."""
    rule_bits: Mapping[str, int]
    """For each ingredient, a bit mask of the indexes of the rules that name it."""
    rule_sides: Mapping[str, tuple[int, int, int, int]]
    """For every ingredient: its bit, then bit masks of the rules that name it, that name it
    on side ``a`` and on side ``b`` (a group rule counts as both sides). A pair rule can fire
    only when rules of both sides and two ingredients are present: a regimen's candidate
    rules, before each is evaluated."""
    generic_products: Mapping[frozenset[str], str]
    """The generic line of each combination that has one, by its set of ingredients: the
    product whose id is its ingredients' ids joined by ``-`` in any order
    (``hydrocodone-acetaminophen``). A name that writes a combination by its ingredients'
    names resolves to it (:func:`medref.reference.combination_of`)."""
    by_class: Mapping[str, frozenset[str]] = MappingProxyType({})
    """The ingredient ids of each therapeutic class (read from the raw entries: no
    ingredient is compiled to answer it)."""
    mme_ids: frozenset[str] = frozenset()
    """The ingredients with an MME factor (read from the raw entries)."""

    def cite(self, ids: tuple[str, ...], verified: bool = True) -> str:
        """Short citation text for source ids, marking unverified facts."""
        return cite_text(self.sources, ids, verified)


def cite_text(sources: Mapping[str, Source], ids: tuple[str, ...], verified: bool = True
              ) -> str:
    """Short citation text for source ids (``seed document; FDA label``), marking unverified
    facts ``(unverified)`` unless a source's own text already says so."""
    parts = [sources[s].short if s in sources else s for s in ids]
    text = "; ".join(dict.fromkeys(parts))
    return text if verified or "not verified" in text else f"{text} (unverified)"


def _rule_sides(rules: tuple[InteractionRule, ...], bits: Mapping[str, int]
                ) -> dict[str, tuple[int, int, int, int]]:
    """:attr:`Knowledge.rule_sides`."""
    named: dict[str, list[int]] = {eid: [bit, 0, 0, 0] for eid, bit in bits.items()}
    for n, r in enumerate(rules):
        pair = r.kind == "pair"
        for eid in r.sel_a | r.sel_b | r.sel_members | r.sel_requires:
            t = named[eid]
            t[1] |= 1 << n
            if not pair or eid in r.sel_a:
                t[2] |= 1 << n
            if not pair or eid in r.sel_b:
                t[3] |= 1 << n
    return {eid: (t[0], t[1], t[2], t[3]) for eid, t in named.items()}


# -- compiling validated JSON ---------------------------------------------------------------
# The JSON was validated by the authoring models (or its bytes match the validated manifest),
# so scalars pass through as they are; only lists become tuples and nested objects are
# compiled. Ingredients are compiled when first used: ``medref check`` on three lines compiles
# three, a batch compiles each one once.

Raw = Mapping[str, object]
T = TypeVar("T")
_PASS = None
"""A field whose validated JSON value is used as it is."""


def _strs(v: object) -> tuple[str, ...]:
    if not isinstance(v, list | tuple):
        raise TypeError(f"expected a list, got {v!r}")
    return tuple(str(x) for x in v)


def _obj(v: object) -> Raw:
    if not isinstance(v, Mapping):
        raise TypeError(f"expected an object, got {v!r}")
    return v


def _seq(v: object) -> list[object] | tuple[object, ...]:
    if not isinstance(v, list | tuple):
        raise TypeError(f"expected a list, got {v!r}")
    return v


def _build(cls: Callable[..., T], raw: Raw,
           conv: Mapping[str, Callable[[object], object] | None], **extra: object) -> T:
    """``cls`` from the keys of ``raw`` that ``conv`` names (converted, or passed through when
    the converter is None); keys ``raw`` leaves out take the class's own default."""
    kwargs: dict[str, object] = {}
    for k, v in raw.items():
        if k in conv:
            c = conv[k]
            kwargs[k] = v if c is None else c(v)
    kwargs.update(extra)
    return cls(**kwargs)


class _Compiler:
    def __init__(self, sources: Mapping[str, Source]) -> None:
        self.sources = sources
        self._condition: dict[str, Callable[[object], object] | None] = dict.fromkeys(
            ("min_age", "max_age", "crcl_below", "hepatic_impairment", "indication",
             "formulation", "first_day", "opioid_tolerant", "max_weeks_since_surgery",
             "weight_below", "renal_egfr"))

    def cited(self, raw: Raw) -> Cited:
        ids = _strs(raw.get("sources", ()))
        verified = bool(raw.get("verified", True))
        note = raw.get("note")
        return Cited(ids, verified, None if note is None else str(note),
                     cite_text(self.sources, ids, verified))

    def condition(self, v: object) -> Condition:
        return _build(Condition, _obj(v), self._condition)

    def limit(self, v: object) -> Limit:
        raw = _obj(v)
        lim = _build(Limit, raw, {
            "kind": _PASS, "amount": _PASS, "unit": _PASS, "period": _PASS,
            "routes": lambda x: None if x is None else _strs(x),
            "formulations": lambda x: None if x is None else _strs(x),
            "when": lambda x: None if x is None else self.condition(x),
            "severity": _PASS, "basis": _PASS, "label": _PASS, "per_kg": _PASS},
            cited=self.cited(raw))
        if not lim.cited.verified and lim.severity == "error":
            # the alert policy: a limit from general knowledge is at most a warning
            lim = lim._replace(severity="warning")
        return lim

    def number(self, v: object) -> SourcedNumber | None:
        if v is None:
            return None
        raw = _obj(v)
        value = raw["value"]
        if not isinstance(value, str | int | float):
            raise TypeError(f"expected a number or text, got {value!r}")
        return SourcedNumber(value if isinstance(value, str) else float(value),
                             self.cited(raw))

    def bone(self, v: object) -> BoneHealing:
        raw = _obj(v)
        return _build(BoneHealing, raw, {
            "concern": _PASS, "rationale": _PASS, "evidence": _PASS, "severity": _PASS,
            "high_dose": _PASS, "high_dose_unit": _PASS}, cited=self.cited(raw))

    def context_rule(self, v: object) -> ContextRule:
        raw = _obj(v)
        return _build(ContextRule, raw, {
            "when": self.condition, "action": _PASS, "message": _PASS, "severity": _PASS,
            "flag": _PASS}, cited=self.cited(raw))

    def typical(self, v: object) -> Typical | None:
        if v is None:
            return None
        return _build(Typical, _obj(v), {
            "text": _PASS, "min": _PASS, "max": _PASS, "unit": _PASS, "basis": _PASS,
            "frequency": _PASS, "frequency_text": _PASS, "sources": _strs})

    def salt(self, v: object) -> Salt:
        raw = _obj(v)
        factor = raw["base_per_salt"]
        if not isinstance(factor, int | float):
            raise TypeError(f"expected a number, got {factor!r}")
        return Salt(_strs(raw["names"]), float(factor), self.cited(raw))

    def product(self, v: object) -> Product:
        raw = _obj(v)
        strengths = []
        for sv in _seq(raw["strengths"]):
            st = _obj(sv)
            comps = []
            for cv in _seq(st["components"]):
                c = _obj(cv)
                written = c["amount"]
                base = c.get("base_amount")
                if not isinstance(written, int | float) or not isinstance(base,
                                                                          int | float | None):
                    raise TypeError(f"expected numbers in {c!r}")
                comps.append(Component(str(c["ingredient"]),
                                       float(base if base is not None else written),
                                       str(c["unit"]), float(written),
                                       None if c.get("salt") is None else str(c["salt"])))
            strengths.append(Strength(str(st["label"]), tuple(comps), bool(st.get("legacy")),
                                      None if st.get("rxcui") is None else str(st["rxcui"]),
                                      self.cited(st)))
        named = tuple((str(_obj(n)["name"]), str(_obj(n)["strength"]))
                      for n in _seq(raw.get("named_strengths", ())))
        return Product(str(raw["id"]), str(raw["name"]), _strs(raw["ingredients"]),
                       str(raw["dose_form"]), str(raw["formulation"]), str(raw["route"]),
                       tuple(strengths), _strs(raw.get("aliases", ())), named,
                       None if raw.get("note") is None else str(raw["note"]), self.cited(raw))

    def note(self, v: object) -> Note:
        if isinstance(v, str):
            return Note(v)
        raw = _obj(v)
        return Note(str(raw.get("note") or ""), self.cited(raw))

    def ingredient(self, v: object, file: str) -> Ingredient:
        raw = _obj(v)
        ing: Ingredient = _build(Ingredient, raw, {
            "id": _PASS, "kind": _PASS, "name": _PASS, "bone_healing": self.bone,
            "aliases": _strs, "classes": _strs, "routes": _strs, "default_route": _PASS,
            "checkable": _PASS, "typical": self.typical,
            "limits": lambda x: tuple(self.limit(y) for y in _seq(x)),
            "iu_per_mcg": self.number, "amount_basis": _PASS,
            "elemental_fraction": self.number, "mme_factor": self.number, "rxcui": self.number,
            "context_rules": lambda x: tuple(self.context_rule(y) for y in _seq(x)),
            "salts": lambda x: tuple(self.salt(y) for y in _seq(x)),
            "default_formulation": _PASS, "function": _PASS, "mechanism": _PASS,
            "side_effects": _strs,
            "regulatory": _PASS, "notes": lambda x: tuple(self.note(y) for y in _seq(x)),
            "sources": _strs}, file=file)
        if any(lim.per_kg for lim in ing.limits):  # per-kg limits need a weight: kept apart
            ing = ing._replace(limits=tuple(lim for lim in ing.limits if not lim.per_kg),
                               per_kg_limits=tuple(lim for lim in ing.limits if lim.per_kg))
        return ing

    def rule(self, v: object, select: Callable[[tuple[str, ...]], frozenset[str]],
             mask: Callable[[frozenset[str]], int]) -> InteractionRule:
        raw = _obj(v)
        sel = {k: select(_strs(raw.get(k, ()))) for k in ("a", "b", "members", "requires")}
        rule: InteractionRule = _build(InteractionRule, raw, {
            "id": _PASS, "kind": _PASS, "category": _PASS, "level": _PASS, "severity": _PASS,
            "title": _PASS, "mechanism": _PASS, "action": _PASS, "a": _strs, "b": _strs,
            "members": _strs, "requires": _strs, "min_count": _PASS, "problem": _PASS,
            "dose_cap": self.dose_cap},
            cited=self.cited(raw), sel_a=sel["a"], sel_b=sel["b"], sel_members=sel["members"],
            sel_requires=sel["requires"], mask_a=mask(sel["a"]), mask_b=mask(sel["b"]),
            mask_members=mask(sel["members"]), mask_requires=mask(sel["requires"]))
        if not rule.cited.verified and rule.severity == "error":
            rule = rule._replace(severity="warning")  # the alert policy, as for limits
        mods = []
        for m in _seq(raw.get("modifiers", ())):
            mr = _obj(m)
            cited = self.cited(mr)
            sev = mr.get("severity")
            if sev == "error" and not cited.verified:
                sev = "warning"
            age = mr.get("min_age")
            mods.append(Modifier(str(mr["effect"]), str(mr["text"]),
                                 mask(select(_strs(mr.get("present", ())))),
                                 age if isinstance(age, int) else None,
                                 None if sev is None else str(sev), cited))
        if mods:
            rule = rule._replace(modifiers=tuple(mods))
        return rule._replace(problem_key=f"{rule.category}:{rule.problem or rule.id}")

    def dose_cap(self, v: object) -> DoseCap | None:
        if v is None:
            return None
        raw = _obj(v)
        amount = raw["amount"]
        if not isinstance(amount, int | float):
            raise TypeError(f"expected a number, got {amount!r}")
        return DoseCap(float(amount), str(raw["unit"]))

    def policy_value(self, v: object) -> PolicyValue:
        raw = _obj(v)
        value = raw["value"]
        if not isinstance(value, int | float):
            raise TypeError(f"expected a number, got {value!r}")
        return PolicyValue(float(value), self.cited(raw))

    def policy(self, v: object) -> Policy:
        raw = _obj(v)
        table = _obj(raw["mme_factor_table"])
        return Policy(mme_factor_table=str(table["name"]),
                      mme_factor_table_version=str(table["version"]),
                      mme_table_cited=self.cited(table),
                      mme_warning=self.policy_value(raw["mme_warning"]),
                      mme_high=self.policy_value(raw["mme_high"]),
                      nsaid_early_window_weeks=self.policy_value(raw["nsaid_early_window_weeks"]))




class _Lazy(Mapping[str, T]):
    """Compiled objects by id, each compiled on first use (under a lock; the result never
    changes, so this is a memo, not state)."""

    def __init__(self, raw: Mapping[str, object], build: Callable[[object], T]) -> None:
        self._raw = raw
        self._build = build
        self._done: dict[str, T] = {}
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> T:
        hit = self._done.get(key)
        if hit is None:
            v = self._raw[key]
            with self._lock:
                hit = self._done.get(key)
                if hit is None:
                    hit = self._done[key] = self._build(v)
        return hit

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, key: object) -> bool:
        return key in self._raw


ENTRY_FILES = ("drugs.json", "supplements.json", "watch.json")
"""The data files that hold ingredients, in load order."""


def compile_knowledge(raw: Mapping[str, object]) -> Knowledge:
    """Compile validated data (file name -> parsed JSON) into :class:`Knowledge`."""
    sources = {}
    for v in _seq(raw["sources.json"]):
        s = _obj(v)
        sources[str(s["id"])] = Source(str(s["id"]), str(s["kind"]), str(s["short"]),
                                       str(s["citation"]))
    comp = _Compiler(sources)
    entries: dict[str, object] = {}
    classes: dict[str, tuple[str, ...]] = {}
    mme_ids: set[str] = set()
    for fname in ENTRY_FILES:
        for v in _seq(raw[fname]):
            e = _obj(v)
            eid = str(e["id"])
            entries[eid] = (v, fname)
            classes[eid] = _strs(e.get("classes", ()))
            if e.get("mme_factor") is not None:
                mme_ids.add(eid)
    products = {str(_obj(v)["id"]): v for v in _seq(raw.get("products.json", ()))}

    by_class: dict[str, list[str]] = {}
    for eid, cls in classes.items():
        for c in cls:
            by_class.setdefault(c, []).append(eid)

    def select(selectors: tuple[str, ...]) -> frozenset[str]:
        out: set[str] = set()
        for sel in selectors:
            if sel.startswith("class:"):
                out.update(by_class.get(sel[6:], ()))
            elif sel in entries:
                out.add(sel)
        return frozenset(out)

    bit_ids = tuple(entries)
    bits = {eid: 1 << k for k, eid in enumerate(bit_ids)}

    def mask(ids: frozenset[str]) -> int:
        return sum(bits[i] for i in ids)

    rules = tuple(comp.rule(v, select, mask) for v in _seq(raw["interactions.json"]))
    by_ing: dict[str, list[int]] = {}
    for n, r in enumerate(rules):
        for eid in r.sel_a | r.sel_b | r.sel_members | r.sel_requires:
            by_ing.setdefault(eid, []).append(n)
    def ingredient(v: object) -> Ingredient:
        pair = v if isinstance(v, tuple) else (v, "")
        return comp.ingredient(pair[0], str(pair[1]))

    return Knowledge(MappingProxyType(sources), _Lazy(entries, ingredient),
                     _Lazy(products, comp.product), rules,
                     comp.policy(raw["policy.json"]),
                     MappingProxyType({k: tuple(v) for k, v in by_ing.items()}),
                     MappingProxyType(bits), bit_ids,
                     MappingProxyType({k: sum(1 << n for n in v) for k, v in by_ing.items()}),
                     MappingProxyType(_rule_sides(rules, bits)),
                     MappingProxyType(_generic_products(products)),
                     by_class=MappingProxyType({k: frozenset(v) for k, v in by_class.items()}),
                     mme_ids=frozenset(mme_ids))


def _generic_products(products: Mapping[str, object]) -> dict[frozenset[str], str]:
    """:attr:`Knowledge.generic_products` of the raw products."""
    out: dict[frozenset[str], str] = {}
    for pid, v in products.items():
        ids = _strs(_obj(v).get("ingredients", ()))
        if len(ids) > 1 and pid in {"-".join(p) for p in permutations(ids)}:
            out[frozenset(ids)] = pid
    return out
