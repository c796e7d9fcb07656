"""Which characters each sig rule can start with: the table behind the parser's dispatch.

The sig parser tries only the rules that can start with the character at hand, and compiles a
rule's regex the first time it is tried (compiling all of them cost about a tenth of the CLI's
start-up). Computing this table needs the regex parser, which is as slow as compiling, so the
table is kept in :mod:`medref.sig` as a literal (``_FIRST``). After changing a rule, run::

    python -m medref._sigtable

and paste its output over ``_FIRST``; ``tests/test_sig.py`` fails until the table is current.
The sets are conservative: a rule the table lists for a character may still not match there,
but a rule is never left out where it could match.
"""

from __future__ import annotations

import string
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as P  # type: ignore[attr-defined]

_DIGITS = frozenset(string.digits)
_WORD = frozenset(string.ascii_letters + string.digits + "_")
_SPACE = frozenset(" \t\n\r\f\v")
_CATEGORY = {C.CATEGORY_DIGIT: _DIGITS, C.CATEGORY_WORD: _WORD, C.CATEGORY_SPACE: _SPACE}


class _Any(Exception):
    """The rule can start with a character outside any set we can name."""


def _item(op: object, av: object) -> tuple[frozenset[str], bool]:
    """(first characters, can be empty) of one parsed regex item."""
    if op is C.LITERAL:
        return frozenset({chr(av)}), False  # type: ignore[arg-type]
    if op is C.IN:
        chars: set[str] = set()
        for sub_op, sub_av in av:  # type: ignore[attr-defined]
            if sub_op is C.LITERAL:
                chars.add(chr(sub_av))
            elif sub_op is C.RANGE:
                lo, hi = sub_av
                if hi - lo > 300:
                    raise _Any
                chars.update(chr(c) for c in range(lo, hi + 1))
            elif sub_op is C.CATEGORY and sub_av in _CATEGORY:
                chars |= _CATEGORY[sub_av]
            else:  # NEGATE, other categories
                raise _Any
        return frozenset(chars), False
    if op is C.BRANCH:
        out: set[str] = set()
        empty = False
        for branch in av[1]:  # type: ignore[index]
            f, e = _seq(branch)
            out |= f
            empty = empty or e
        return frozenset(out), empty
    if op is C.SUBPATTERN:
        return _seq(av[3])  # type: ignore[index]
    if op in (C.MAX_REPEAT, C.MIN_REPEAT):
        low: int = av[0]  # type: ignore[index]
        f, e = _seq(av[2])  # type: ignore[index]
        return f, e or low == 0
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return frozenset(), True  # zero width: what follows decides
    raise _Any


def _seq(items: object) -> tuple[frozenset[str], bool]:
    out: set[str] = set()
    for op, av in items:  # type: ignore[attr-defined]
        f, empty = _item(op, av)
        out |= f
        if not empty:
            return frozenset(out), False
    return frozenset(out), True


def first_chars(pattern: str) -> str | None:
    """The characters a match of ``pattern`` can start with (sorted), or None for any."""
    try:
        chars, _ = _seq(P.parse(pattern))
    except _Any:
        return None
    return "".join(sorted(chars))


_MAX_SET = 64
"""Above this many two-character prefixes, a rule is dispatched on its first character."""


class _TooMany(Exception):
    """More prefixes than worth listing."""


def _concat(left: set[str], right: set[str], k: int) -> set[str]:
    out = set()
    for a in left:
        if len(a) >= k:
            out.add(a)
            continue
        for b in right:
            out.add((a + b)[:k])
    if len(out) > _MAX_SET:
        raise _TooMany
    return out


def _chars(op: object, av: object) -> set[str]:
    chars, empty = _item(op, av)
    if empty:  # pragma: no cover - single-character items are never empty
        raise _Any
    return set(chars)


def _pre_item(op: object, av: object, k: int) -> set[str]:
    """Every prefix (up to ``k`` characters) of a match of one item; shorter strings mean
    the item can end there ("" when it can match nothing)."""
    if op in (C.LITERAL, C.IN):
        return _chars(op, av)
    if op is C.BRANCH:
        out: set[str] = set()
        for branch in av[1]:  # type: ignore[index]
            out |= _pre_seq(branch, k)
        return out
    if op is C.SUBPATTERN:
        return _pre_seq(av[3], k)  # type: ignore[index]
    if op in (C.MAX_REPEAT, C.MIN_REPEAT):
        low: int = av[0]  # type: ignore[index]
        high: int = av[1]  # type: ignore[index]
        sub = _pre_seq(av[2], k)  # type: ignore[index]
        result: set[str] = set()
        cur = {""}
        for rep in range(min(high, k) + 1):
            if rep >= low:
                result |= cur
            if all(len(x) >= k for x in cur) or rep == min(high, k):
                if rep < low:
                    result |= cur
                break
            cur = _concat(cur, sub, k)
        return result
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return {""}
    raise _Any


def _pre_seq(items: object, k: int) -> set[str]:
    cur = {""}
    for op, av in items:  # type: ignore[attr-defined]
        cur = _concat(cur, _pre_item(op, av, k), k)
        if all(len(x) >= k for x in cur):
            break
    return cur


def first_pairs(pattern: str) -> tuple[str, ...] | None:
    """The first two characters a match of ``pattern`` can start with (and, as one-character
    strings, the whole one-character matches), sorted; None when there are too many to list
    (the rule is then dispatched on its first character)."""
    try:
        return tuple(sorted(x for x in _pre_seq(P.parse(pattern), 2) if x))
    except (_Any, _TooMany):
        return None


def table() -> list[tuple[str | None, tuple[str, ...] | None]]:
    """The first characters and first pairs of every sig rule, in rule order."""
    from medref.sig import _RULES, _end_boundary
    out = []
    for rx, _ in _RULES:
        pattern = _end_boundary(rx)
        out.append((first_chars(pattern), first_pairs(pattern)))
    return out


if __name__ == "__main__":
    import pprint
    print("_FIRST: tuple[tuple[str | None, tuple[str, ...] | None], ...] = (")
    for entry in table():
        text = pprint.pformat(entry, width=94, compact=True)
        print("    " + text.replace("\n", "\n    ") + ",")
    print(")")
