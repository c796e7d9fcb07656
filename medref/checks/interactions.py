"""Regimen-wide rules kept as data (``interactions.json``): duplicate therapy by class
(MR302), interactions (MR303) and administration timing (MR304)."""

from __future__ import annotations

from medref.checks.base import Emit, Out, RegimenCheck, RegimenView
from medref.codes import Code
from medref.context import Context
from medref.knowledge import InteractionRule, Knowledge

MR302 = Code("MR302", "duplicate-therapy", ("info", "warning", "error"),
             "Duplicate therapy by class (rule in interactions.json).")
MR303 = Code("MR303", "interaction", ("info", "warning", "error"),
             "An interaction among listed agents (rule in interactions.json).")
MR304 = Code("MR304", "administration", ("info", "warning", "error"),
             "An administration-timing rule (rule in interactions.json).")

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
        while twice:
            low = twice & -twice
            twice ^= low
            rule = kb.rules[low.bit_length() - 1]
            hits = mask_hits(rule, present)
            if hits:
                self._report(rule, hits, regimen, kb, out)

    @staticmethod
    def _report(rule: InteractionRule, hits: int, regimen: RegimenView, kb: Knowledge,
                out: Out) -> None:
        key = (rule.id, hits)
        found = out.memo.get(key)
        if not isinstance(found, Emit):
            involved = tuple(sorted(kb.bit_ids[i] for i in range(hits.bit_length())
                                    if hits >> i & 1))
            names = ", ".join(kb.ingredients[i].name for i in involved)
            found = Emit(CATEGORY_CODE[rule.category], rule.severity, involved, (),
                         f"{rule.title} ({names}; {rule.level}): {rule.mechanism} "
                         f"Action: {rule.action}", rule.cited.cite, rule.id)
            if len(out.memo) >= 4096:
                out.memo.clear()
            out.memo[key] = found
        groups = regimen.groups
        lines = sorted({n for i in found.items for n in groups[i]})
        out.add(found._replace(lines=tuple(lines)))


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
