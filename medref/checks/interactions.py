"""Regimen-wide rules kept as data (``interactions.json``): duplicate therapy by class
(MR302), interactions (MR303) and administration timing (MR304)."""

from __future__ import annotations

from medref.checks.base import Emit, Out, RegimenCheck, RegimenView
from medref.codes import Code
from medref.context import Context
from medref.knowledge import InteractionRule, Knowledge, Modifier

MR302 = Code("MR302", "duplicate-therapy", ("info", "warning", "error"),
             "Duplicate therapy by class (rule in interactions.json).")
MR303 = Code("MR303", "interaction", ("info", "warning", "error"),
             "An interaction among listed agents (rule in interactions.json).")
MR304 = Code("MR304", "administration", ("info", "warning"),
             "An administration-timing rule (rule in interactions.json).")

MEMO_SIZE = 4_096
"""Findings remembered per problem and drug set (cleared when full: memory stays flat)."""

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
        bits, rule_bits = kb.bits, kb.rule_bits
        present = once = twice = 0
        for ing in groups:
            present |= bits[ing]
            r = rule_bits.get(ing, 0)
            twice |= once & r
            once |= r
        fired: dict[str, list[tuple[InteractionRule, int]]] = {}
        while twice:
            low = twice & -twice
            twice ^= low
            rule = kb.rules[low.bit_length() - 1]
            hits = mask_hits(rule, present)
            if hits:
                key = f"{rule.category}:{rule.problem or rule.id}"  # duplicates apart
                fired.setdefault(key, []).append((rule, hits))
        for problem, hit in fired.items():
            self._report(problem, hit, regimen, kb, out, _modified(hit, present, ctx))

    @staticmethod
    def _report(problem: str, fired: list[tuple[InteractionRule, int]], regimen: RegimenView,
                kb: Knowledge, out: Out, mods: tuple[tuple[Modifier, int], ...] = ()) -> None:
        """One finding per clinical problem: every rule about it that fired, its pairs and
        sources, at the highest of their severities (the alert policy), with the modifiers
        that apply (a mitigating drug present, a risk factor that raises the severity)."""
        key = (problem, tuple((r.id, h) for r, h in fired), mods)
        found = out.memo.get(key)
        if not isinstance(found, Emit):
            found = _apply(_finding(fired, kb), mods, kb)
            if len(out.memo) >= MEMO_SIZE:
                out.memo.clear()
            out.memo[key] = found
        groups = regimen.groups
        lines = sorted({n for i in found.items for n in groups[i]})
        out.add(found._replace(lines=tuple(lines)))


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


def _ids(kb: Knowledge, hits: int) -> tuple[str, ...]:
    return tuple(sorted(kb.bit_ids[i] for i in range(hits.bit_length()) if hits >> i & 1))


def _finding(fired: list[tuple[InteractionRule, int]], kb: Knowledge) -> Emit:
    """The finding for one problem: the most severe rule leads (code, action, rule id)."""
    fired = sorted(fired, key=lambda x: (-_RANK[x[0].severity], x[0].id))
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
