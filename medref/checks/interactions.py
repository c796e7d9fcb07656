"""Regimen-wide rules kept as data (``interactions.json``): duplicate therapy by class
(MR302), interactions (MR303) and administration timing (MR304)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from medref.checks.base import Emit, Out, RegimenCheck, RegimenView
from medref.codes import Code
from medref.context import Context
from medref.knowledge import DoseCap, InteractionRule, Knowledge, Modifier, fmt

MR302 = Code("MR302", "duplicate-therapy", ("info", "warning", "error"),
             "Duplicate therapy by class (rule in interactions.json).")
MR303 = Code("MR303", "interaction", ("info", "warning", "error"),
             "An interaction among listed agents (rule in interactions.json).")
MR304 = Code("MR304", "administration", ("info", "warning"),
             "An administration-timing rule (rule in interactions.json).")

MEMO_SIZE = 1_024
"""Findings remembered per problem and drug set, in two generations: when the current one is
full it replaces the previous one (memory stays flat; findings still in use are kept)."""
_PREVIOUS = ("previous generation",)

CATEGORY_CODE = {"duplicate-therapy": "MR302", "interaction": "MR303",
                 "administration": "MR304"}


def rule_hits(rule: InteractionRule, present: frozenset[str]) -> frozenset[str]:
    """The ingredients of ``present`` a rule fires on (empty when it does not fire).

    A pair rule fires for each ingredient matching ``a`` that has a *different* partner
    matching ``b`` (and the other way round); a group rule when at least ``min_count``
    ingredients match ``members`` (and one matches ``requires``, if set).
    """
    if rule.kind == "pair":
        a = present & rule.sel_a
        b = present & rule.sel_b
        if not a or not b:
            return frozenset()
        return (a if len(b) > 1 else a - b) | (b if len(a) > 1 else b - a)
    hits = present & rule.sel_members
    if len(hits) < rule.min_count:
        return frozenset()
    if rule.sel_requires or rule.requires:
        req = present & rule.sel_requires
        if not req:
            return frozenset()
        hits |= req
    return hits


class InteractionRules(RegimenCheck):
    """MR302, MR303, MR304: every rule of the data whose selectors the regimen meets."""

    name = "interaction-rules"
    codes = (MR302, MR303, MR304)
    reads = frozenset({"age"})
    """Age: a rule's risk-factor modifier (``min_age``)."""

    def run(self, regimen: RegimenView, ctx: Context, kb: Knowledge, out: Out) -> None:
        """Evaluate the rules that name at least two of the regimen's ingredients (only those
        can fire: every rule needs two distinct ingredients), over bit masks."""
        groups = regimen.groups
        if len(groups) < 2:
            return
        present, twice = candidates(kb, groups)
        if not twice:
            return
        rules = kb.rules
        fired: dict[str, list[tuple[InteractionRule, int]]] = {}
        while twice:
            low = twice & -twice
            twice ^= low
            rule = rules[low.bit_length() - 1]
            hits = mask_hits(rule, present)
            if hits:
                hit = fired.get(rule.problem_key)  # duplicates apart from interactions
                if hit is None:
                    fired[rule.problem_key] = [(rule, hits)]
                else:
                    hit.append((rule, hits))
        for problem, hit in fired.items():
            caps: tuple[tuple[str, str], ...] = ()
            for r, _ in hit:
                if r.dose_cap is not None:
                    hit, caps = _dose_caps(hit, regimen, kb)
                    break
            mods = _modified(hit, present, ctx) if hit[0][0].modifiers or len(hit) > 1 else ()
            severity = self._report(problem, hit, regimen.groups, kb, out, mods, caps)
            if ctx.age is None:
                for rule, hits in hit:
                    if rule.modifiers:
                        _need_age(rule, hits, severity, regimen.groups, kb, out)

    @staticmethod
    def _report(problem: str, fired: list[tuple[InteractionRule, int]],
                groups: Mapping[str, Sequence[int]], kb: Knowledge, out: Out,
                mods: tuple[tuple[Modifier, int], ...] = (),
                caps: tuple[tuple[str, str], ...] = ()) -> str:
        """One finding per clinical problem: every rule about it that fired, its pairs and
        sources, at the highest of their severities (the alert policy), with the modifiers
        that apply (a mitigating drug present, a risk factor that raises the severity).
        Returns the finding's severity."""
        # one rule and no modifier (the usual case): a flat key, cheaper to build and hash
        # (a key of the other shape holds tuples where this one holds a str and an int, so
        # the two never compare equal)
        key: tuple[object, ...] = ((problem, fired[0][0].id, fired[0][1])
                                   if len(fired) == 1 and not mods and not caps else
                                   (problem, tuple([(r.id, h) for r, h in fired]), mods,
                                    caps))
        memo = out.memo
        found = memo.get(key)
        if not isinstance(found, Emit):
            prev = memo.get(_PREVIOUS)
            found = prev.get(key) if isinstance(prev, dict) else None
            if not isinstance(found, Emit):
                found = _apply(_finding(fired, kb), mods, kb)
                if caps:
                    sep = " " if found.message.endswith(".") else ". "
                    found = found._replace(message=found.message + sep + " ".join(
                        [text for _, text in caps]))
            if len(memo) >= MEMO_SIZE:  # the full generation becomes the previous one
                full = dict(memo)
                full.pop(_PREVIOUS, None)
                memo.clear()
                memo[_PREVIOUS] = full
            memo[key] = found
        items = found.items
        if len(items) == 2 and len(groups[items[0]]) == 1 and len(groups[items[1]]) == 1:
            a, b = groups[items[0]][0], groups[items[1]][0]
            lines: tuple[int, ...] = (a, b) if a < b else (b, a) if b < a else (a,)
        else:
            lines = tuple(sorted({n for i in items for n in groups[i]}))
        out.add(Emit(found.code, found.severity, items, lines, found.message, found.source,
                     found.rule))
        return found.severity


def candidates(kb: Knowledge, ingredients: Iterable[str]) -> tuple[int, int]:
    """The ingredients as a bit mask (:attr:`Knowledge.bits`), and a bit mask of the rules
    that may fire on them: those naming two of them, a pair rule only with both of its sides
    present (:attr:`Knowledge.rule_sides`). Every rule that fires is a candidate."""
    sides = kb.rule_sides
    present = once = twice = side_a = side_b = 0
    for ing in ingredients:
        bit, r, ra, rb = sides[ing]
        present |= bit
        if r:
            twice |= once & r
            once |= r
            side_a |= ra
            side_b |= rb
    return present, twice & side_a & side_b


ABOVE, WITHIN, UNREAD = "above", "within", "unread"


def _dose_caps(fired: list[tuple[InteractionRule, int]], regimen: RegimenView, kb: Knowledge
               ) -> tuple[list[tuple[InteractionRule, int]], tuple[tuple[str, str], ...]]:
    """The fired rules with a dose cap read against the regimen's doses: a rule whose capped
    drug is above its cap is a labeled limit exceeded (an error when verified, the alert
    policy), one at or below it is info, one whose daily dose cannot be read keeps its own
    severity. Returns the rules (capped ones at their severity for these doses) and, per
    capped rule, ``(state, text)`` (the text ends the finding's message)."""
    out: list[tuple[InteractionRule, int]] = []
    caps: list[tuple[int, int, bool, str, tuple[str, str]]] = []  # the finding's order
    for rule, hits in fired:
        cap = rule.dose_cap
        if cap is None:
            out.append((rule, hits))
            continue
        state, text = _cap_state(rule, cap, hits & rule.mask_a, regimen, kb)
        if state == ABOVE:
            rule = rule._replace(severity="error" if rule.cited.verified else "warning")
        elif state == WITHIN:
            rule = rule._replace(severity="info")
        out.append((rule, hits))
        caps.append((-_RANK[rule.severity], -_LEVEL.get(rule.level, 0),
                     not rule.cited.verified, rule.id, (state, text)))
    caps.sort()  # the finding's order (:func:`_finding`): its lead first
    return out, tuple([c for _, _, _, _, c in caps])


def _cap_state(rule: InteractionRule, cap: DoseCap, capped: int, regimen: RegimenView,
               kb: Knowledge) -> tuple[str, str]:
    """``(state, text)`` of a capped rule: each capped drug's worst-case daily total over its
    lines, against the cap (the most severe state of them)."""
    parts: list[str] = []
    worst = WITHIN
    partners = ", ".join([kb.ingredients[i].name.lower() for i in _ids(kb, _partners(rule,
                                                                                    regimen,
                                                                                    kb))])
    cap_text = f"{fmt(cap.amount)} {cap.unit} a day with {partners}"
    for ing in _ids(kb, capped):
        ingredient = kb.ingredients[ing]
        total = 0.0
        readable = True
        for n in regimen.groups[ing]:
            d = regimen.lines[n].dose_of(ing)
            if (d is None or d.daily is None
                    or not ingredient.comparable(d.unit, cap.unit)):
                readable = False  # the lines read may still be above the cap on their own
                continue
            total += ingredient.convert(d.daily, d.unit, cap.unit)
        if not readable and total <= cap.amount * (1 + 1e-9):
            parts.append(f"Dose check: {ingredient.name}'s daily dose could not be read; "
                         f"confirm it is at most {cap_text}.")
            if worst == WITHIN:
                worst = UNREAD
        elif total > cap.amount * (1 + 1e-9):
            least = "" if readable else " at least (a line's dose could not be read)"
            parts.append(f"Dose check: {ingredient.name} {fmt(total)} {cap.unit} a day{least} "
                         f"is above the cap of {cap_text}.")
            worst = ABOVE
        else:
            parts.append(f"Dose check: {ingredient.name} {fmt(total)} {cap.unit} a day is "
                         f"within the cap of {cap_text}.")
    return worst, " ".join(parts)


def _partners(rule: InteractionRule, regimen: RegimenView, kb: Knowledge) -> int:
    """The regimen's ingredients on a pair rule's ``b`` side, as a bit mask."""
    bits = kb.bits
    found = 0
    for ing in regimen.groups:
        bit = bits.get(ing, 0)
        if bit & rule.mask_b:
            found |= bit
    return found


def _modified(fired: list[tuple[InteractionRule, int]], present: int, ctx: Context
              ) -> tuple[tuple[Modifier, int], ...]:
    """The modifiers of the fired rules that apply: ``(modifier, matching ingredients)``."""
    out: list[tuple[Modifier, int]] = []
    for rule, hits in fired:
        for m in rule.modifiers:
            if m.min_age is not None:
                if ctx.age is not None and ctx.age >= m.min_age:
                    out.append((m, 0))
            else:
                match = present & m.mask & ~hits
                if match:
                    out.append((m, match))
    return tuple(dict.fromkeys(out))


def _need_age(rule: InteractionRule, hits: int, severity: str,
              groups: Mapping[str, Sequence[int]], kb: Knowledge, out: Out) -> None:
    """A rule that fired, in a regimen checked without an age, whose risk-factor modifier
    with ``min_age`` would raise its problem's finding above ``severity`` (what it has
    without the age): the age is a need (MR602), as for any rule that needed a context value
    not given (the alert policy, rule 3). Nothing is asked when the finding is already at
    least that severe (another rule or risk factor raised it)."""
    for m in rule.modifiers:
        if (m.min_age is None or m.effect != "raises" or m.severity is None
                or _RANK[m.severity] <= _RANK[severity]):
            continue
        ids = _ids(kb, hits)
        lead = _ids(kb, hits & rule.mask_a) if rule.kind == "pair" else ()
        lead = lead or ids[:1]  # a group rule: one need, naming every other member
        others = [i for i in ids if i not in lead]
        with_ = f" with {', '.join(others)}" if others else ""
        lines = sorted({n for i in ids for n in groups[i]})
        for a in lead:
            out.need("age", f"{a} interaction severity{with_} (age {m.min_age} or over raises "
                     "it)", lines)


def _apply(found: Emit, mods: tuple[tuple[Modifier, int], ...], kb: Knowledge) -> Emit:
    if not mods:
        return found
    severity = found.severity
    raised = [(m, h) for m, h in mods if m.effect == "raises"]
    eased = [(m, h) for m, h in mods if m.effect == "mitigates"]
    parts = []
    for m, h in raised:
        who = f" ({', '.join(kb.ingredients[i].name for i in _ids(kb, h))})" if h else ""
        parts.append(f"Risk factor present{who}: {m.text}")
        if m.severity is not None and _RANK[m.severity] > _RANK[severity]:
            severity = m.severity
    for m, h in eased:
        who = ", ".join(kb.ingredients[i].name for i in _ids(kb, h))
        parts.append(f"Mitigation present ({who}): {m.text}")
    cites = [c for c in found.source.split("; ") if c] if found.source else []
    cites += [c for m, _ in mods for c in m.cited.cite.split("; ") if c]
    involved = found.items
    return found._replace(severity=severity, message=found.message + " " + " ".join(parts),
                          source="; ".join(dict.fromkeys(cites)) or None, items=involved)


_RANK = {"info": 0, "warning": 1, "error": 2}
_LEVEL = {"unverified": 0, "minor": 1, "moderate": 2, "major": 3, "contraindicated": 4}


def _ids(kb: Knowledge, hits: int) -> tuple[str, ...]:
    """The ingredient ids of the set bits of ``hits``, sorted (a few bits: walk them)."""
    bit_ids = kb.bit_ids
    out: list[str] = []
    while hits:
        low = hits & -hits
        out.append(bit_ids[low.bit_length() - 1])
        hits ^= low
    out.sort()
    return tuple(out)


def _finding(fired: list[tuple[InteractionRule, int]], kb: Knowledge) -> Emit:
    """The finding for one problem: the most severe rule leads (code, action, rule id); among
    rules of one severity, the one of the highest level (major before moderate), then by id."""
    fired = sorted(fired, key=lambda x: (-_RANK[x[0].severity], -_LEVEL.get(x[0].level, 0),
                                         not x[0].cited.verified, x[0].id))
    lead, lead_hits = fired[0]
    every = 0
    for _, h in fired:
        every |= h
    involved = _ids(kb, every)

    def names(h: int) -> str:
        return ", ".join(kb.ingredients[i].name for i in _ids(kb, h))
    if len(fired) == 1:
        message = (f"{lead.title} ({names(lead_hits)}; {lead.level}): {lead.mechanism} "
                   f"Action: {lead.action}")
        cite = lead.cited.cite
    else:
        also = "; ".join(f"{r.title} ({names(h)}; {r.level})" for r, h in fired[1:])
        message = (f"{lead.title} ({names(lead_hits)}; {lead.level}): {lead.mechanism} "
                   f"Action: {lead.action} Same problem, also: {also}")
        cites = list(dict.fromkeys(c for r, _ in fired for c in r.cited.cite.split("; ") if c))
        cite = "; ".join(cites)
    return Emit(CATEGORY_CODE[lead.category], lead.severity, involved, (), message, cite,
                lead.id)


def mask_hits(rule: InteractionRule, present: int) -> int:
    """:func:`rule_hits` over bit masks (see :attr:`medref.knowledge.Knowledge.bits`)."""
    if rule.kind == "pair":
        a = present & rule.mask_a
        b = present & rule.mask_b
        if not a or not b:
            return 0
        # x in a pairs with some y != x in b (and the other way round)
        return (a if b & (b - 1) else a & ~b) | (b if a & (a - 1) else b & ~a)
    hits = present & rule.mask_members
    if hits.bit_count() < rule.min_count:
        return 0
    if rule.requires:
        req = present & rule.mask_requires
        if not req:
            return 0
        hits |= req
    return hits
