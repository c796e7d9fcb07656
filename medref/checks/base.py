"""What a check is: its scope, the context it reads, the codes it emits, and ``run``.

A check is pure: ``run(subject, ctx, kb, out)`` looks only at its subject (one line, one
ingredient's lines, or the whole regimen), the patient context and the compiled knowledge, and
records findings and unmet context needs in ``out``. It never prints, never raises for a
problem it found, and keeps no state: caching is the engine's business.

Each check declares which context fields it may read (``reads``) and, per subject, a key
function (:meth:`LineCheck.key`): contexts with equal keys must give equal findings, so the
engine can reuse a result. The engine hands ``run`` a context holding only the declared fields,
so a check cannot read what it did not declare.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import ClassVar, NamedTuple

from mypy_extensions import mypyc_attr

from medref.codes import Code
from medref.context import Context
from medref.dosing import DoseFacts, ResolvedLine
from medref.knowledge import Condition, Ingredient, Knowledge, Limit, fmt

KeyFn = Callable[[Context], Hashable]
"""A function of the patient context; equal values mean equal findings for one subject."""


class Scope(enum.Enum):
    """What a check looks at."""

    LINE = "line"
    INGREDIENT = "ingredient"
    REGIMEN = "regimen"


class Emit(NamedTuple):
    """A finding as a check records it: lines are relative to the check's subject."""

    code: str
    severity: str
    items: tuple[str, ...]
    lines: tuple[int, ...]
    message: str
    source: str | None = None
    rule: str | None = None


class Need(NamedTuple):
    """A context value a rule needed but was not given: ``what`` (``age``, ``crcl`` ...),
    the rule it was for, and the (relative) lines."""

    what: str
    purpose: str
    lines: tuple[int, ...]


class Out:
    """Collects what one run of a check records.

    ``memo`` is a dict the engine keeps for this check across runs (bounded, cleared when
    full): a check may keep in it results of pure functions of the knowledge, keyed by
    everything they depend on (the interaction rules keep each rule's finding per set of
    ingredients it fires on). Never the context: a check's context-dependent results are
    cached by the engine through :meth:`LineCheck.key`.
    """

    __slots__ = ("emits", "memo", "needs")

    def __init__(self, memo: dict[Hashable, object] | None = None) -> None:
        self.emits: list[Emit] = []
        self.needs: list[Need] = []
        self.memo: dict[Hashable, object] = memo if memo is not None else {}

    def emit(self, code: str, severity: str, items: Sequence[str], lines: Sequence[int],
             message: str, source: str | None = None, rule: str | None = None) -> None:
        """Record a finding (items and lines are sorted and made unique)."""
        self.emits.append(Emit(code, severity, tuple(sorted(set(items))),
                               tuple(sorted(set(lines))), message, source, rule))

    def add(self, emit: Emit) -> None:
        """Record a finding whose items and lines are already sorted and unique."""
        self.emits.append(emit)

    def need(self, what: str, purpose: str, lines: Sequence[int]) -> None:
        """Record that a rule needed a context value that was not given."""
        self.needs.append(Need(what, purpose, tuple(lines)))


class Portion(NamedTuple):
    """One line's part in an ingredient's group: its position in the group, the line, and
    the ingredient's comparable dose on it (None when it has none)."""

    pos: int
    line: ResolvedLine
    dose: DoseFacts | None


class IngredientGroup(NamedTuple):
    """Every line of a regimen that carries one ingredient (positions 0..n-1)."""

    ingredient: Ingredient
    portions: tuple[Portion, ...]

    @property
    def dosed(self) -> list[Portion]:
        """Portions with a comparable dose and a worst case per day."""
        return [p for p in self.portions if p.dose is not None and p.dose.daily is not None]

    @property
    def indexes(self) -> list[int]:
        """Every position."""
        return [p.pos for p in self.portions]


class RegimenView(NamedTuple):
    """The whole regimen: every line, and each ingredient's line indexes (grouped lines)."""

    lines: tuple[ResolvedLine, ...]
    groups: Mapping[str, Sequence[int]]


# The check bases are the extension point (docs/ARCHITECTURE.md): where medref is compiled with
# mypyc, a check written in plain Python must still be able to subclass them.
@mypyc_attr(allow_interpreted_subclasses=True)
class Check:
    """Base of every check: a name, a scope, the codes it emits and the fields it reads."""

    name: ClassVar[str]
    scope: ClassVar[Scope]
    codes: ClassVar[tuple[Code, ...]]
    reads: ClassVar[frozenset[str]] = frozenset()


@mypyc_attr(allow_interpreted_subclasses=True)
class LineCheck(Check):
    """A check of one line (its findings are on that line, index 0)."""

    scope: ClassVar[Scope] = Scope.LINE

    def key(self, line: ResolvedLine, kb: Knowledge) -> KeyFn | None:
        """The context key for this line, or None when the check reads no context for it."""
        return None

    def run(self, line: ResolvedLine, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Record the line's findings."""
        raise NotImplementedError


@mypyc_attr(allow_interpreted_subclasses=True)
class IngredientCheck(Check):
    """A check of every line that carries one ingredient."""

    scope: ClassVar[Scope] = Scope.INGREDIENT

    def key(self, ingredient: Ingredient, kb: Knowledge) -> KeyFn | None:
        """The context key for any group of this ingredient (a group's findings depend on its
        lines and the context; the lines are part of the cache key already), or None when the
        check reads no context for it."""
        return None

    def relevant(self, ingredient: Ingredient) -> bool:
        """False when the check can never find anything for this ingredient (the engine then
        skips it for the ingredient's groups)."""
        return True

    def run(self, group: IngredientGroup, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Record the group's findings (lines are group positions)."""
        raise NotImplementedError


@mypyc_attr(allow_interpreted_subclasses=True)
class RegimenCheck(Check):
    """A check of the whole regimen (lines are absolute; not cached)."""

    scope: ClassVar[Scope] = Scope.REGIMEN

    def relevant_ingredients(self, kb: Knowledge) -> frozenset[str] | None:
        """The ingredients without which the check finds nothing (the engine skips a regimen
        that has none of them), or None when any regimen may give findings."""
        return None

    def run(self, regimen: RegimenView, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Record the regimen's findings."""
        raise NotImplementedError


CONDITION_READS: frozenset[str] = frozenset({"age", "crcl", "egfr", "hepatic_impairment",
                                             "opioid_tolerant", "weeks_since_surgery", "weight"})
"""The context fields a limit's or rule's condition can read (:class:`Condition`)."""


def egfr_note(when: Condition | None, ctx: Context) -> str:
    """`` (eGFR 25 used for CrCl: ...)`` when a CrCl rule was applied to an eGFR, and
    `` (CrCl 25 used for eGFR: ...)`` when an eGFR rule was applied to a CrCl."""
    if when is None or when.crcl_below is None:
        return ""
    if when.renal_egfr:
        if ctx.egfr is not None or ctx.crcl is None:
            return ""
        return (f" (CrCl {fmt(ctx.crcl)} used for eGFR, as no eGFR was given: the label's rule "
                "is by eGFR)")
    if ctx.crcl is not None or ctx.egfr is None:
        return ""
    return (f" (eGFR {fmt(ctx.egfr)} used for CrCl, as no CrCl was given: the label's rule is "
            "by creatinine clearance)")


def conditions_key(conditions: Sequence[Condition]) -> KeyFn | None:
    """A key function over how a context meets each condition (None when none reads the
    context): contexts that meet them alike give the same findings."""
    conds = tuple(c for c in dict.fromkeys(conditions) if c.reads)
    if not conds:
        return None
    # the thresholds the conditions compare with, by field: contexts on the same side of
    # every threshold meet every condition alike (one tuple built per call, no per-condition
    # work: this runs for every ingredient of every regimen)
    ages = tuple(sorted({(c.min_age if c.min_age is not None else -1,
                          c.max_age if c.max_age is not None else 1000)
                         for c in conds if c.min_age is not None or c.max_age is not None}))
    crcl = tuple(sorted({c.crcl_below for c in conds
                         if c.crcl_below is not None and not c.renal_egfr}))
    egfr = tuple(sorted({c.crcl_below for c in conds
                         if c.crcl_below is not None and c.renal_egfr}))
    weeks = tuple(sorted({c.max_weeks_since_surgery for c in conds
                          if c.max_weeks_since_surgery is not None}))
    weight = tuple(sorted({c.weight_below for c in conds if c.weight_below is not None}))
    hepatic = any(c.hepatic_impairment is not None for c in conds)
    tolerant = any(c.opioid_tolerant is not None for c in conds)

    def key(ctx: Context) -> Hashable:
        age = ctx.age
        a = None if age is None or not ages else tuple([lo <= age <= hi for lo, hi in ages])
        r = _renal_key(crcl, ctx.crcl, ctx.egfr, "egfr") if crcl else None
        e = _renal_key(egfr, ctx.egfr, ctx.crcl, "crcl") if egfr else None
        w = ctx.weeks_since_surgery
        kg = ctx.weight
        return (a, r, e, ctx.hepatic_impairment if hepatic else None,
                ctx.opioid_tolerant if tolerant else None,
                None if w is None or not weeks else tuple([w <= t for t in weeks]),
                None if kg is None or not weight else tuple([kg < t for t in weight]))
    return key


def _renal_key(thresholds: tuple[float, ...], value: float | None, stand_in: float | None,
               tag: str) -> Hashable:
    """How a kidney-function value falls against the thresholds of rules written in its
    measure; the other measure standing in for it (said in the finding) keys apart."""
    if value is not None:
        return tuple([value < t for t in thresholds])
    if stand_in is not None:
        return (tag, tuple([stand_in < t for t in thresholds]))
    return None


def applies(when: Condition | None, ctx: Context, out: Out, lines: Sequence[int],
            purpose: str) -> str | None:
    """How a limit or rule with condition ``when`` applies: ``default`` (no condition),
    ``context`` (every context condition met), ``qualified`` (an indication, formulation or
    first day: a labeled alternative), or None (not applicable). A context value it needs that
    is not given is recorded in ``out`` as a need."""
    if when is None:
        return "default"
    outcomes = when.outcomes(ctx)
    if not outcomes:
        return "qualified"
    for what, met in outcomes:
        if met is None:
            out.need(what, purpose, lines)
    return "context" if all(met for _, met in outcomes) else None


def contributions_text(portions: Sequence[Portion], days: float, unit: str) -> str:
    """``1,300 mg from 'Percocet ...' + ...``: each line's worst case within ``days``."""
    parts = []
    for p in portions:
        total = (p.dose.total_in(days) if p.dose is not None else None) or 0.0
        text = p.line.text if len(p.line.text) <= 40 else p.line.text[:37] + "..."
        parts.append(f"{fmt(total)} {unit} from {text!r}")
    return " + ".join(parts)


def raise_severity(severity: str, steps: int = 1) -> str:
    """One severity step up (error stays error)."""
    order = ("info", "warning", "error")
    return order[min(2, order.index(severity) + steps)]


def formulation_note(lim_formulations: tuple[str, ...] | None, lines: Sequence[ResolvedLine]
                     ) -> str:
    """For a formulation-specific limit applied to a line whose formulation was assumed, the
    words saying so (empty otherwise)."""
    if not lim_formulations:
        return ""
    for ln in lines:
        if ln.line.formulation_assumed:
            kind = {"IR": "immediate-release", "ER": "extended-release",
                    "DR": "delayed-release"}.get(ln.formulation or "", ln.formulation or "")
            if len(lines) > 1:
                return f" for {kind} products ({kind} assumed where a line does not say)"
            return f" for {kind} ({kind} assumed: the line does not say)"
    return f" for {'/'.join(lim_formulations)} products"


_FORMULATION_WORDS = {"IR": "an immediate-release", "ER": "an extended-release",
                      "DR": "a delayed-release"}


def assumed_formulation(severity: str, e: Ingredient, lim: Limit, lines: Sequence[ResolvedLine],
                        value: float, unit: str) -> tuple[str, str]:
    """A finding against a formulation-specific limit, on a line whose formulation was
    assumed, that another formulation's limit of the same kind would allow, is at most a
    warning and names that limit: the severity to use and the words to add."""
    if not lim.formulations or not any(ln.line.formulation_assumed for ln in lines):
        return severity, ""
    route = lines[0].route if lines else None
    for other in e.limits:
        if (other.kind != lim.kind or other.period != lim.period or other.unit is None
                or not other.formulations or other.when is not None
                or not other.route_ok(route)
                or set(other.formulations) & set(lim.formulations)):
            continue
        amount = e.convert(other.amount, other.unit, unit)
        if value <= amount * (1 + 1e-9):
            kind = "/".join(other.formulations)
            return ("warning" if severity == "error" else severity,
                    f"; within the {kind} maximum of {fmt(amount)} {unit} if it is "
                    f"{_FORMULATION_WORDS.get(kind, 'a ' + kind)} product")
    return severity, ""


def assumed_strength(severity: str, lines: Sequence[ResolvedLine]) -> tuple[str, str]:
    """A finding that rests on an assumed strength is at most a warning and says which
    strength it assumed: the severity to use and the words to add."""
    assumed = [ln for ln in lines if ln.line.strength_assumed]
    if not assumed:
        return severity, ""
    labels = ", ".join(f"{ln.product.name if ln.product else ''} {ln.line.strength_label}"
                       for ln in assumed)
    sev = "warning" if severity == "error" else severity
    return sev, f" (strength not stated: checked at the strongest marketed, {labels})"


def assumed_repeats(severity: str, lines: Sequence[ResolvedLine]) -> tuple[str, str]:
    """A daily total that rests on ``may repeat in N h`` with no count or maximum written (the
    interval read all day, the worst case) is at most a warning and says so (the alert policy:
    a limit exceeded on an assumption)."""
    assumed = [ln for ln in lines if ln.line.frequency is not None
               and ln.line.frequency.repeats_assumed and ln.line.cap_text is None]
    if not assumed:
        return severity, ""
    sev = "warning" if severity == "error" else severity
    return sev, ("; the line does not say how many repeats: "
                 f"{assumed[0].line.frequency.text!r} read all day, the worst case"
                 if assumed[0].line.frequency is not None else "")
