"""The engine: reads each item, runs every check, and caches what can be reused.

``Engine(reference).assess(items, context)`` returns an :class:`Assessment`: the resolved
lines and the sorted findings. The engine knows nothing of any particular check; it asks each
check for its scope and, per subject, a context key (:mod:`medref.checks.base`), and caches:

- per distinct item (its text): the line read and resolved, and the line checks' findings
  together with its ingredients' checks for when the line is that ingredient's only line (the
  usual case), per context key;
- per ingredient on several lines: that ingredient's checks over those lines, per context key.

A line's outcome also keeps its findings for the usual case as one tuple (a regimen places
them at the line's position), and is found for the empty context and for the last context
object by identity before any key is computed. Regimen checks (interactions,
duplicates, the MME total) run every time (the interaction rules keep their findings per
problem and drug set in their own memo). Caches are bounded (line outcomes under one budget over
all items, and the group and finding memos, in two generations: what is still used survives
a turnover; see :data:`CACHE_SIZE`) and belong to the engine instance
(none is module state); a cached result is reused only for a context whose declared key is
equal, and checks are given a context holding only the fields they declare, so a cache
cannot serve a stale answer.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from typing import Generic, NamedTuple, TypeVar

from medref.checks import all_checks, codes_of
from medref.checks.base import (
    Check,
    Emit,
    IngredientCheck,
    IngredientGroup,
    KeyFn,
    LineCheck,
    Out,
    Portion,
    RegimenCheck,
    RegimenView,
)
from medref.codes import Code
from medref.context import CONTEXT_KEYS, EMPTY, Context
from medref.dosing import ResolvedLine, resolve
from medref.errors import InputError
from medref.readers.lines import Lexicon, read_sig, read_structured
from medref.reference import Reference
from medref.regimen import FhirEntry, MedicationLine
from medref.vocab import SEVERITY_RANK

MR602 = Code("MR602", "unverifiable", ("info",),
             "Rules needed context values that were not given: one finding per regimen, "
             "naming each missing value and the rules it would check.")
ENGINE_CODES = (MR602,)
"""Codes the engine itself emits."""

NEED_LABELS = {"age": "age (--age)", "crcl": "creatinine clearance (--crcl or --egfr)",
               "hepatic-impairment": "hepatic function (--hepatic-impairment)",
               "weeks-since-surgery": "weeks since surgery (--weeks-since-surgery)",
               "weight": "weight (--weight)",
               "opioid-tolerant": "opioid tolerance (--opioid-tolerant or "
                                  "--not-opioid-tolerant)"}

CACHE_SIZE = 2_000
"""Distinct items an engine remembers (the memo is cleared when full). The other memos are
sized from it, each in two generations: line outcomes (an item under one context key, over
all items) as many per generation, ingredient groups (lines sharing an ingredient) half as many,
finding bodies as many, MR602 bodies a quarter. Together they bound the memory of a long run
whatever its input: a batch of 1,000,000 generated records peaks at 1.15x the memory of 10,000,
and the 4x-8x larger memos before were no faster (README "Performance")."""
_OUTCOMES_PER_SLOT = 64
_AT_N = 64
_AT = tuple((i,) for i in range(_AT_N))
"""Shared one-line index tuples."""


class FindingBody:
    """A finding without its line indexes, interned: the same finding recurs across regimens.

    ``key`` orders findings (most severe first, then code, items); ties are broken by lines,
    then by message (``__lt__``). ``json`` holds its serialized form once a renderer made it.
    """

    __slots__ = ("category", "code", "items", "json", "key", "message", "rank", "rule",
                 "severity", "source")

    def __init__(self, code: str, category: str, severity: str, items: tuple[str, ...],
                 message: str, source: str | None, rule: str | None) -> None:
        self.code, self.category, self.severity = code, category, severity
        self.items, self.message, self.source, self.rule = items, message, source, rule
        self.rank = SEVERITY_RANK[severity]
        # (-rank, code, items) as one string that sorts the same way (each part ends or
        # starts with a character below any in a code or an id): compared in C, in one step
        self.key = f"{2 - self.rank}{code}\x00" + "".join(["\x01" + i for i in items])
        self.json: tuple[bytes, bytes] | None = None

    def __lt__(self, other: FindingBody) -> bool:
        return self.message < other.message


Placed = tuple[str, tuple[int, ...], FindingBody]
"""A finding body at its (sorted) line indexes, led by its sort key."""

Found = tuple[tuple[tuple[FindingBody, tuple[int, ...]], ...], tuple[tuple[str, str, tuple[int,
                                                                                          ...]],
                                                                     ...]]
"""A cached check result: (finding bodies at relative lines, needs at relative lines)."""


class Assessment(NamedTuple):
    """The findings for a regimen before they are rendered.

    ``findings`` are sorted (most severe first, then code, items, lines, message);
    ``lines[i]`` is item ``i`` as read and resolved; ``mme`` the worst-case MME/day of the
    opioid lines whose MME could be computed (None when there are none).
    """

    lines: tuple[ResolvedLine, ...]
    findings: list[Placed]
    mme: float | None
    context: Context


Needed = tuple[str, str, tuple[int, ...]]
"""A context value not given: (what, the rule it was for, lines)."""


class _Outcome:
    """A line's check outcome under one context key: its line checks' findings (``own``) and
    each ingredient's checks for when the line is that ingredient's only line (``solo``).

    For the usual case (each of its ingredients on no other line) ``bodies`` holds every
    finding of both, and ``needed`` the context values their rules needed (what, purpose): a
    regimen places them at the line's position. (Keeping them placed per position was no
    faster compiled and held most of a long batch's memory.)
    """

    __slots__ = ("bodies", "needed", "own", "solo")

    def __init__(self, own: Found, solo: dict[str, Found]) -> None:
        self.own = own
        self.solo = solo
        bodies = [b for b, _ in own[0]]
        wants = [(what, purpose) for what, purpose, _ in own[1]]
        for found, found_needs in solo.values():
            bodies += [b for b, _ in found]
            wants += [(what, purpose) for what, purpose, _ in found_needs]
        self.bodies: tuple[FindingBody, ...] = tuple(bodies)
        self.needed: frozenset[tuple[str, str]] = frozenset(wants)


class _Slot:
    """One distinct item: the line resolved, and its check outcomes by identity for the empty
    context and for the last context it was checked with (by context key: the engine's
    ``_outcomes``)."""

    __slots__ = ("cache_key", "empty", "ingredients", "key", "last", "resolved")

    def __init__(self, cache_key: Hashable, resolved: ResolvedLine) -> None:
        self.cache_key = cache_key
        self.resolved = resolved
        self.ingredients = resolved.ingredient_ids
        self.key: KeyFn | None = None
        self.empty: _Outcome | None = None
        # (context, outcome) as one tuple: written and read in one step, so a thread never
        # pairs one context with another's outcome
        self.last: tuple[Context, _Outcome] | None = None


K = TypeVar("K")
V = TypeVar("V")


class Generations(Generic[K, V]):
    """A bounded memo in two generations: a hit in the previous generation moves to the
    current one, and when the current one holds ``size`` entries it becomes the previous one
    (what was not used since is dropped). At most ``2 x size`` entries; entries in use stay."""

    __slots__ = ("cur", "prev", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.cur: dict[K, V] = {}
        self.prev: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        hit = self.cur.get(key)
        if hit is None and self.prev:
            hit = self.prev.pop(key, None)
            if hit is not None:
                self.put(key, hit)
        return hit

    def put(self, key: K, value: V) -> None:
        if len(self.cur) >= self.size:
            self.prev, self.cur = self.cur, {}
        self.cur[key] = value


class _Group:
    __slots__ = ("key", "outcomes")

    def __init__(self, key: KeyFn | None) -> None:
        self.key = key
        self.outcomes: dict[Hashable, Found] = {}


def _combine(fns: list[KeyFn]) -> KeyFn | None:
    if not fns:
        return None
    if len(fns) == 1:
        return fns[0]
    funcs = tuple(fns)

    def key(ctx: Context) -> Hashable:
        return tuple([f(ctx) for f in funcs])
    return key


class Engine:
    """Runs the checks on regimens against one reference, with bounded caches.

    Args:
        reference: the loaded reference.
        checks: the checks to run (default: the built-in ones and ``$MEDREF_CHECKS``).
        cache_size: distinct items and ingredient groups to remember (0: no caching).

    Raises:
        ValueError: two checks declare one code with different meanings.
    """

    def __init__(self, reference: Reference, checks: Sequence[Check] | None = None, *,
                 cache_size: int = CACHE_SIZE) -> None:
        self.reference = reference
        self.kb = reference.knowledge
        self.checks = tuple(checks) if checks is not None else all_checks()
        self.codes: Mapping[str, Code] = codes_of(self.checks, ENGINE_CODES)
        self._line_checks = [c for c in self.checks if isinstance(c, LineCheck)]
        self._ing_checks = [c for c in self.checks if isinstance(c, IngredientCheck)]
        # each regimen check with the ingredients it needs (None: any regimen)
        self._reg_checks = [(c, c.relevant_ingredients(self.kb)) for c in self.checks
                            if isinstance(c, RegimenCheck)]
        self._owned = {id(c): frozenset(code.code for code in c.codes) for c in self.checks}
        self._cache_size = cache_size
        self._slots: dict[Hashable, _Slot] = {}
        self._groups: Generations[Hashable, _Group] = Generations(max(1, cache_size // 2))
        self._bodies: Generations[tuple[object, ...], FindingBody] = Generations(
            max(1, cache_size))
        self._outcomes: Generations[tuple[_Slot, Hashable], _Outcome] = Generations(
            max(1, cache_size))
        self._views: dict[tuple[int, frozenset[str]], tuple[Context, Context]] = {}
        self._views_eq: dict[tuple[Context, frozenset[str]], Context] = {}
        self._need_bodies: Generations[frozenset[tuple[str, str]], FindingBody] = Generations(
            max(1, cache_size // 4))
        self._memos: dict[int, dict[Hashable, object]] = {id(c): {} for c in self.checks}
        self._ing_keys: dict[str, KeyFn | None] = {}
        self._ing_relevant: dict[str, tuple[IngredientCheck, ...]] = {}
        self._lex = Lexicon(reference)

    # -- reading -----------------------------------------------------------------------------
    def _slot(self, item: object, i: int, source: str, item_lines: Sequence[int] | None
              ) -> _Slot:
        if isinstance(item, str):
            slot = self._slots.get(item)
            if slot is not None:
                return slot
            resolved = resolve(read_sig(item, self._lex), self.kb)
            return self._remember(item, resolved)
        if isinstance(item, FhirEntry):
            fkey = ("fhir", item.key())
            slot = self._slots.get(fkey)
            if slot is not None:
                return slot
            from medref.readers.fhir import read_entry
            return self._remember(fkey, resolve(read_entry(item, self._lex), self.kb))
        if isinstance(item, MedicationLine):
            slot = self._slots.get(("line", item))
            return slot if slot is not None else self._remember(("line", item),
                                                                resolve(item, self.kb))
        if isinstance(item, Mapping):
            try:
                key: Hashable = ("item", tuple(sorted((str(k), repr(v))
                                                       for k, v in item.items())))
            except TypeError:  # pragma: no cover - repr never fails for JSON values
                key = None
            slot = self._slots.get(key) if key is not None else None
            if slot is not None:
                return slot
            if item_lines is not None and i < len(item_lines):
                line = read_structured(item, self._lex, source, item_lines[i])
            else:
                try:
                    line = read_structured(item, self._lex, source)
                except InputError as exc:
                    raise InputError(f"item {i + 1}: {exc.reason}", source=source,
                                     field=exc.field) from None
            return self._remember(key, resolve(line, self.kb))
        raise InputError(f"item {i + 1} must be a string or a mapping, not "
                         f"{type(item).__name__}", source=source, line=i + 1)

    def _remember(self, key: Hashable, resolved: ResolvedLine) -> _Slot:
        slot = _Slot(key, resolved)
        fns = [f for c in self._line_checks if (f := c.key(resolved, self.kb)) is not None]
        fns += [f for ing in slot.ingredients if (f := self._ing_key(ing)) is not None]
        slot.key = _combine(fns)
        if self._cache_size and key is not None:
            if len(self._slots) >= self._cache_size:
                self._slots.clear()
            self._slots[key] = slot
        return slot

    def _ing_key(self, ing: str) -> KeyFn | None:
        """The ingredient checks' combined context key for an ingredient (memoised)."""
        if ing in self._ing_keys:
            return self._ing_keys[ing]
        ingredient = self.kb.ingredients[ing]
        fn = _combine([f for c in self._ing_checks if c.relevant(ingredient)
                       and (f := c.key(ingredient, self.kb)) is not None])
        self._ing_keys[ing] = fn
        return fn

    def _solo_group(self, resolved: ResolvedLine, ing: str) -> IngredientGroup:
        return IngredientGroup(self.kb.ingredients[ing],
                               (Portion(0, resolved, resolved.dose_of(ing)),))

    # -- running checks ----------------------------------------------------------------------
    def _view(self, ctx: Context, reads: frozenset[str]) -> Context:
        """``ctx`` with only the fields in ``reads`` (a check sees only what it declared)."""
        if not reads or ctx is EMPTY:
            return EMPTY
        if reads.issuperset(CONTEXT_KEYS):
            return ctx
        # first by the object (held in the entry, so its id is not reused): a batch passes
        # the same few objects again and again, and hashing a context hashes every field,
        # in Python; then by value (a caller's new but equal context)
        key = (id(ctx), reads)
        hit = self._views.get(key)
        if hit is not None and hit[0] is ctx:
            return hit[1]
        view = self._views_eq.get((ctx, reads))
        if view is None:
            view = replace(ctx, **{k: None for k in CONTEXT_KEYS if k not in reads})
            if len(self._views_eq) >= 256:
                self._views_eq.clear()
            self._views_eq[(ctx, reads)] = view
        if len(self._views) >= 256:
            self._views.clear()
        self._views[key] = (ctx, view)
        return view

    def _body(self, check: Check, e: Emit) -> FindingBody:
        k = (e.code, e.severity, e.items, e.message, e.source, e.rule)
        body = self._bodies.get(k)
        if body is None:
            if e.code not in self._owned[id(check)]:
                raise ValueError(f"check {check.name!r} emitted {e.code}, which it does not "
                                 "declare")
            code = self.codes[e.code]
            if e.severity not in code.severities:
                raise ValueError(f"check {check.name!r} emitted {e.code} at {e.severity!r}; "
                                 f"the code allows {code.severity_text}")
            body = FindingBody(e.code, code.category, e.severity, e.items, e.message,
                               e.source, e.rule)
            self._bodies.put(k, body)
        return body

    def _collect(self, check: Check, out: Out, found: list[tuple[FindingBody, tuple[int, ...]]],
                 needs: list[Needed]) -> None:
        for e in out.emits:
            found.append((self._body(check, e), e.lines))
        for n in out.needs:
            needs.append((n.what, n.purpose, n.lines))

    def _run_line(self, resolved: ResolvedLine, ctx: Context) -> Found:
        found: list[tuple[FindingBody, tuple[int, ...]]] = []
        needs: list[Needed] = []
        for c in self._line_checks:
            out = Out(self._memos[id(c)])
            c.run(resolved, self._view(ctx, c.reads), self.kb, out)
            self._collect(c, out, found, needs)
        return tuple(found), tuple(needs)

    def _run_group(self, group: IngredientGroup, ctx: Context) -> Found:
        found: list[tuple[FindingBody, tuple[int, ...]]] = []
        needs: list[Needed] = []
        ing = group.ingredient.id
        checks = self._ing_relevant.get(ing)
        if checks is None:
            checks = self._ing_relevant[ing] = tuple(
                c for c in self._ing_checks if c.relevant(group.ingredient))
        views: dict[frozenset[str], Context] = {}
        for c in checks:
            out = Out(self._memos[id(c)])
            view = views.get(c.reads)
            if view is None:
                view = views[c.reads] = self._view(ctx, c.reads)
            c.run(group, view, self.kb, out)
            if out.emits or out.needs:
                self._collect(c, out, found, needs)
        return tuple(found), tuple(needs)

    def _line_outcome(self, slot: _Slot, ctx: Context) -> _Outcome:
        k = slot.key(ctx) if slot.key is not None else None
        hit = self._outcomes.get((slot, k))
        if hit is None:
            own = self._run_line(slot.resolved, ctx)
            solo = {ing: self._run_group(self._solo_group(slot.resolved, ing), ctx)
                    for ing in slot.ingredients}
            hit = _Outcome(own, solo)
            if self._cache_size:
                self._outcomes.put((slot, k), hit)
        if ctx is EMPTY:
            slot.empty = hit
        else:
            slot.last = (ctx, hit)
        return hit

    def _group_outcome(self, ing: str, slots: list[_Slot], ctx: Context) -> Found:
        gkey = (ing, tuple([s.cache_key for s in slots]))
        cached = self._groups.get(gkey) if None not in gkey[1] else None
        if cached is None:
            cached = _Group(self._ing_key(ing))
            if self._cache_size and None not in gkey[1]:
                self._groups.put(gkey, cached)
        k = cached.key(ctx) if cached.key is not None else None
        hit = cached.outcomes.get(k)
        if hit is None:
            hit = self._run_group(self._group(ing, slots), ctx)
            if self._cache_size:
                if len(cached.outcomes) >= _OUTCOMES_PER_SLOT:
                    cached.outcomes.clear()
                cached.outcomes[k] = hit
        return hit

    def _group(self, ing: str, slots: list[_Slot]) -> IngredientGroup:
        return IngredientGroup(self.kb.ingredients[ing], tuple(
            Portion(r, s.resolved, s.resolved.dose_of(ing)) for r, s in enumerate(slots)))

    # -- a regimen ---------------------------------------------------------------------------
    def assess(self, items: Sequence[object], ctx: Context, *, source: str = "",
               item_lines: Sequence[int] | None = None) -> Assessment:
        """Read and check one regimen.

        Args:
            items: sig lines (str), structured items (mappings), or lines already read
                (:class:`~medref.regimen.MedicationLine`).
            ctx: the patient context (already merged; see :func:`medref.context.merge`).
            source: where the items came from (a file name), for error messages.
            item_lines: the input line of each item, for error messages.

        Raises:
            InputError: a structured item has a missing or wrongly typed field, or an item is
                neither text nor a mapping.
        """
        get_slot = self._slots.get
        slots: list[_Slot] = []
        groups: dict[str, list[int]] = {}
        multi: set[str] = set()
        for i, item in enumerate(items):
            slot = get_slot(item) if item.__class__ is str else None
            if slot is None:
                slot = self._slot(item, i, source, item_lines)
            slots.append(slot)
            for ing in slot.ingredients:
                if ing in groups:
                    groups[ing].append(i)
                    multi.add(ing)
                else:
                    groups[ing] = [i]
        findings: list[Placed] = []
        wants: list[tuple[str, str]] = []  # context values rules needed: (what, purpose)
        wanted: list[frozenset[tuple[str, str]]] = []  # ... as the lines' cached sets
        where: list[int] = []  # ... at these lines (ascending)
        extra: set[int] = set()  # ... and these (ingredient groups, regimen checks)
        empty = ctx is EMPTY
        for i, slot in enumerate(slots):
            if empty:
                o = slot.empty
            else:
                last = slot.last
                o = last[1] if last is not None and last[0] is ctx else None
            if o is None:
                o = self._line_outcome(slot, ctx)
            if multi and not multi.isdisjoint(slot.ingredients):
                at = _AT[i] if i < _AT_N else (i,)
                own, own_needs = o.own
                findings += [(b.key, at, b) for b, _ in own]
                mine = [(what, purpose) for what, purpose, _ in own_needs]
                for ing in slot.ingredients:
                    if len(groups[ing]) == 1:
                        found, found_needs = o.solo[ing]
                        findings += [(b.key, at, b) for b, _ in found]
                        mine += [(what, purpose) for what, purpose, _ in found_needs]
                if mine:
                    wants += mine
                    where.append(i)
                continue
            if o.bodies:
                at = _AT[i] if i < _AT_N else (i,)
                findings += [(b.key, at, b) for b in o.bodies]
            if o.needed:
                wanted.append(o.needed)
                where.append(i)
        if multi:
            for ing, idx in groups.items():
                if ing not in multi:
                    continue
                found, found_needs = self._group_outcome(ing, [slots[i] for i in idx], ctx)
                for body, rel in found:
                    findings.append((body.key, tuple([idx[r] for r in rel]), body))
                for what, purpose, rel in found_needs:
                    wants.append((what, purpose))
                    extra.update([idx[r] for r in rel])
        lines = tuple([s.resolved for s in slots])
        if self._reg_checks:
            view = RegimenView(lines, groups)
            kb, memos = self.kb, self._memos
            for c, needs in self._reg_checks:
                if needs is not None and needs.isdisjoint(groups):
                    continue
                out = Out(memos[id(c)])
                c.run(view, EMPTY if not c.reads else self._view(ctx, c.reads), kb, out)
                if out.emits:
                    for e in out.emits:
                        body = self._body(c, e)
                        findings.append((body.key, e.lines, body))
                if out.needs:
                    for n in out.needs:
                        wants.append((n.what, n.purpose))
                        extra.update(n.lines)
        if wants or wanted:
            at_lines = tuple(sorted(extra.union(where))) if extra else tuple(where)
            # one set of every need (the lines' cached sets merge by their stored hashes; one
            # line's set alone is used as it is, its hash already known)
            need_set = (wanted[0] if not wants and len(wanted) == 1
                        else frozenset(wants).union(*wanted))
            findings.append(self._report_needs(need_set, at_lines))
        findings.sort()
        mmes = [ln.mme for ln in lines if ln.mme is not None]
        mme = round(sum(mmes), 4) if mmes else None
        return Assessment(lines, findings, mme, ctx)

    def _report_needs(self, wants: frozenset[tuple[str, str]], where: tuple[int, ...]
                      ) -> Placed:
        """MR602: one finding per regimen, naming each context value not given and every
        rule that needed it (``wants``: what, purpose), at the lines ``where``."""
        key = wants  # the message names the set: any order, any repeats
        body = self._need_bodies.get(key)
        if body is None:
            agg: dict[str, set[str]] = {}
            for what, purpose in wants:
                agg.setdefault(what, set()).add(purpose)
            parts = [f"{NEED_LABELS.get(what, what)}: " + ", ".join(sorted(agg[what]))
                     for what in sorted(agg)]
            items = tuple(sorted({p.split(" ")[0] for ps in agg.values() for p in ps}))
            body = self._need_body(items, "context not given, so these rules were not "
                                   "checked: give " + "; ".join(parts))
            self._need_bodies.put(key, body)
        return body.key, where, body

    def _need_body(self, items: tuple[str, ...], message: str) -> FindingBody:
        """The one MR602 body per message (needs listed in another order share it)."""
        k = ("MR602", "info", items, message, None, None)
        body = self._bodies.get(k)
        if body is None:
            body = FindingBody("MR602", self.codes["MR602"].category, "info", items, message,
                               None, None)
            self._bodies.put(k, body)
        return body
