"""The sig-line parser: reads a regimen line as a pharmacist types it.

``parse_line("ibuprofen 800 mg po tid", resolve)`` returns a :class:`ParsedLine`. The parser
never guesses silently: text it does not understand is kept in ``ParsedLine.unparsed`` (and the
checker reports it), and a line it cannot read at all raises :class:`~medref.errors.SigError`
naming the part that was not understood. It never raises anything else.

Grammar (case-insensitive; extra spaces, commas and Unicode dashes allowed)::

    line      := name [strength] [form] [dose] [route] [frequency] [prn [reason]] [duration]
    dose      := NUMBER [("-" | "to") NUMBER] UNIT      e.g. 800mg, 400-800 mg, 1 to 2 g
    frequency := qd | daily | bid | tid | qid | qhs | hs | qNh | qN-Mh | every N [to M] hours
               | weekly | monthly | yearly | N times daily | once | ...
    duration  := ("x" | "for") N [- M] (days | weeks | months | years | doses)

The parts may come in any order after the name.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from medref.errors import SigError
from medref.regimen import Frequency
from medref.text import normalize

__all__ = ["MAX_LINE_CHARS", "Frequency", "ParsedLine", "add_amount", "finish", "normalize",
           "parse_frequency", "parse_line", "parse_rest", "scan_rest", "split_name"]

MAX_LINE_CHARS = 500
"""Longer lines are rejected as unparseable without being scanned (bounded work per line)."""


@dataclass(slots=True)
class ParsedLine:
    """A sig line read into its parts. Amounts are in ``unit`` as written."""

    text: str
    name: str = ""
    product: str | None = None
    norm: str = ""
    """The whole line normalized (:func:`medref.text.normalize`), when read from text."""
    dose: float | None = None
    dose_max: float | None = None
    unit: str | None = None
    strength: float | None = None
    strength_unit: str | None = None
    form: str | None = None
    formulation: str | None = None
    route: str | None = None
    frequency: Frequency | None = None
    prn: bool = False
    prn_reason: str | None = None
    duration_days: float | None = None
    duration_doses: int | None = None
    unparsed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    counted: bool = False
    """The dose is a count of units times a strength per unit (``500 mg 1-2 tabs``): another
    count on the line is a second dose, never a further multiplier."""

    @property
    def dose_worst(self) -> float | None:
        """The largest dose per administration (top of a range)."""
        return self.dose_max if self.dose_max is not None else self.dose


UNIT_ALIASES = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "mgs": "mg",
    "mcg": "mcg", "ug": "mcg", "microgram": "mcg", "micrograms": "mcg",
    "g": "g", "gm": "g", "gram": "g", "grams": "g", "gms": "g",
    "iu": "IU", "unit": "IU", "units": "IU", "i.u.": "IU",
    "ml": "mL", "milliliter": "mL", "milliliters": "mL", "millilitre": "mL", "millilitres": "mL",
    "%": "%",
    "patch": "patch", "patches": "patch",
    "tab": "tablet", "tabs": "tablet", "tablet": "tablet", "tablets": "tablet",
    "cap": "capsule", "caps": "capsule", "capsule": "capsule", "capsules": "capsule",
    "softgel": "capsule", "softgels": "capsule",
    "puff": "puff", "puffs": "puff", "drop": "drop", "drops": "drop",
    "spray": "spray", "sprays": "spray", "injection": "injection", "injections": "injection",
}
COUNT_UNITS = frozenset({"tablet", "capsule", "puff", "drop", "spray", "injection"})

ROUTES = {
    "po": "po", "p.o.": "po", "oral": "po", "orally": "po", "by mouth": "po", "per os": "po",
    "iv": "iv", "ivpb": "iv", "intravenous": "iv", "intravenously": "iv", "iv infusion": "iv",
    "im": "im", "intramuscular": "im", "intramuscularly": "im",
    "sc": "sc", "sq": "sc", "subq": "sc", "subcut": "sc", "s.c.": "sc", "subcutaneous": "sc",
    "subcutaneously": "sc",
    "topical": "topical", "topically": "topical", "to skin": "topical",
    "transdermal": "transdermal", "transdermally": "transdermal", "td": "transdermal",
    "pr": "pr", "rectal": "pr", "rectally": "pr",
    "intranasal": "intranasal", "nasal": "intranasal",
    "intra-articular": "intra-articular", "intraarticular": "intra-articular",
    "ia": "intra-articular", "epidural": "epidural", "inhaled": "inhaled",
}

_WORD_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "half": 0.5,
             "a": 1, "an": 1, "once": 1, "twice": 2, "thrice": 3}
_NUM = r"(?:\d+(?:\.\d+)?|\.\d+)"
_HOURS = r"(?:h|hr|hrs|hour|hours)"


def _f(text: str, **kw: float | bool) -> Frequency:
    return Frequency(text=text, **kw)  # type: ignore[arg-type]


def _interval(lo: float, hi: float, text: str) -> Frequency:
    return Frequency(text=text, interval_min_h=lo, interval_max_h=hi,
                     count_min=24 / hi, count_max=24 / lo)


_TIMES = {"once": 1, "one": 1, "twice": 2, "two": 2, "three": 3, "thrice": 3, "four": 4,
          "five": 5, "six": 6}
_NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
              "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_WN = "(?:" + "|".join(_NUM_WORDS) + ")"
_DAILY_COUNTS = {
    "qd": 1, "q.d.": 1, "od": 1, "daily": 1, "once daily": 1, "once a day": 1, "once per day": 1,
    "bid": 2, "b.i.d.": 2, "bd": 2, "b.d.": 2, "twice daily": 2, "twice a day": 2,
    "twice per day": 2,
    "tid": 3, "t.i.d.": 3, "tds": 3, "t.d.s.": 3, "three times daily": 3, "three times a day": 3,
    "three times per day": 3,
    "qid": 4, "q.i.d.": 4, "qds": 4, "q.d.s.": 4, "four times daily": 4, "four times a day": 4,
    "four times per day": 4,
}
"""Named daily frequencies, for ranges (``bid-qid``) and caps (``up to tds``)."""
_DAILY_ALT = "(?:" + "|".join(re.escape(k) for k in sorted(_DAILY_COUNTS, key=len,
                                                             reverse=True)) + ")"
_PER_DAY_WORDS = r"(?:daily|a day|per day|each day|/day|/d|every day|in 24 hours|a d)"

_VALID_INTERVALS = frozenset(range(1, 25)) | {36, 48, 72}

# (name, regex, handler) tried in order at each position. Handlers get the match.
_Handler = Callable[["re.Match[str]", ParsedLine], str | None]


def _count_daily(m: re.Match[str], p: ParsedLine) -> str | None:
    lo = _to_count(m.group("a"))
    hi = _to_count(m.group("b")) if m.group("b") else lo
    return _set_freq(p, Frequency(text=m.group(0), count_min=lo, count_max=hi))


def _to_count(tok: str) -> float:
    return float(_TIMES.get(tok, tok))


def _set_freq(p: ParsedLine, f: Frequency) -> str | None:
    if p.frequency is not None:
        return f"a second frequency {f.text!r}"
    if f.interval_min_h is not None and (f.interval_min_h <= 0 or f.interval_max_h is None
                                         or f.interval_max_h < f.interval_min_h):
        return f"impossible interval {f.text!r}"
    if f.count_max <= 0 or f.count_min > f.count_max or f.count_max > 24:
        return f"impossible frequency {f.text!r}"
    p.frequency = f
    return None


def _hours(tok: str) -> float:
    return float(_NUM_WORDS.get(tok, tok))


def _q_hours(m: re.Match[str], p: ParsedLine) -> str | None:
    lo = _hours(m.group("a"))
    hi = _hours(m.group("b")) if m.group("b") else lo
    for v in (lo, hi):
        if v not in _VALID_INTERVALS:
            return f"impossible dosing interval {m.group(0)!r} (every {v:g} hours)"
    if hi < lo:
        return f"impossible interval range {m.group(0)!r}"
    return _set_freq(p, _interval(lo, hi, m.group(0)))


def _q_days(m: re.Match[str], p: ParsedLine) -> str | None:
    n = float(m.group("a"))
    if not 1 <= n <= 365:
        return f"impossible dosing interval {m.group(0)!r}"
    return _set_freq(p, _f(m.group(0), window_days=n))


def _fixed(count: float, window: float = 1, **kw: bool) -> _Handler:
    def h(m: re.Match[str], p: ParsedLine) -> str | None:
        return _set_freq(p, Frequency(text=m.group(0), count_min=count, count_max=count,
                                      window_days=window, **kw))
    return h


def _range_fixed(lo: float, hi: float) -> _Handler:
    def h(m: re.Match[str], p: ParsedLine) -> str | None:
        return _set_freq(p, Frequency(text=m.group(0), count_min=lo, count_max=hi))
    return h


def _daily_range(m: re.Match[str], p: ParsedLine) -> str | None:
    """``bid-qid``, ``daily-bid``, ``qid or bid``: a count range per day; the worst case is
    the larger count, in whichever order the two are written."""
    lo, hi = sorted((_DAILY_COUNTS[m.group("a")], _DAILY_COUNTS[m.group("b")]))
    return _set_freq(p, Frequency(text=m.group(0), count_min=lo, count_max=hi))


def _cap(m: re.Match[str], p: ParsedLine) -> str | None:
    """A daily cap (``up to 6 doses daily``, ``max 8 tabs``). Never called: parse_rest keeps
    caps aside and settles them in :func:`_settle_caps` once the whole line is read."""
    raise AssertionError("caps are settled by parse_rest")  # pragma: no cover


def _cap_count(m: re.Match[str]) -> float | None:
    """Administrations a day a cap allows, or None when it counts something else (tablets,
    milligrams, or an unnamed number: ``max 8 in 24 hours``)."""
    g = m.groupdict()
    if g.get("f"):
        return float(_DAILY_COUNTS[g["f"]])
    if g.get("per") and g.get("what") in ("dose", "doses", "times", "x"):
        top = g["range"].replace("-", " ").split()[-1] if g.get("range") else g["n"]
        return float(_NUM_WORDS.get(top, top))  # "up to 3-4 times daily": the top
    return None


def _settle_caps(p: ParsedLine, caps: list[tuple[int, re.Match[str]]]) -> None:
    """Use each cap, or put it back in ``unparsed`` where it stood.

    A cap in administrations a day is the frequency when the line has none (``prn up to 6
    doses daily``: 1 to 6 a day). With a frequency it is understood only when it says the same
    (``q6h ... max 4 doses a day``). A cap below the frequency's worst case cannot be carried
    by :class:`Frequency`, so it is left unparsed and the worst case stays the frequency's; a
    "cap" above it (``up to four times a day ... at bedtime``) is a second frequency (a
    problem), since keeping the lower one would understate the day. Caps on tablets or amounts
    are always left unparsed, never multiplied into the dose.
    """
    for index, m in reversed(caps):
        n = _cap_count(m)
        if n is not None and p.frequency is None:
            problem = _set_freq(p, Frequency(text=m.group(0), count_min=min(1.0, n),
                                             count_max=n))
            if problem:
                p.problems.append(problem)
            continue
        if n is not None and p.frequency is not None and p.frequency.per_day_max == n:
            continue
        if n is not None and p.frequency is not None and p.frequency.per_day_max < n:
            p.problems.append(f"a second frequency {m.group(0)!r}")
            continue
        p.unparsed[index:index] = m.group(0).split()


def _every_n_weeks(m: re.Match[str], p: ParsedLine) -> str | None:
    n = float(m.group("a") or 1)
    unit = m.group("u")
    days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit.rstrip("s")]
    if not 0 < n * days <= 3660:
        return f"impossible dosing interval {m.group(0)!r}"
    return _set_freq(p, _f(m.group(0), window_days=n * days))


def _once(m: re.Match[str], p: ParsedLine) -> str | None:
    return _set_freq(p, _f(m.group(0), once=True))


def _prn(m: re.Match[str], p: ParsedLine) -> str | None:
    p.prn = True
    return None


def _duration(m: re.Match[str], p: ParsedLine) -> str | None:
    lo = float(m.group("a"))
    hi = float(m.group("b")) if m.group("b") else lo
    unit = m.group("u")
    if hi < lo or hi <= 0:
        return f"impossible duration {m.group(0)!r}"
    if p.duration_days is not None or p.duration_doses is not None:
        return f"a second duration {m.group(0)!r}"
    if unit.startswith("dose"):
        p.duration_doses = int(hi)
        return None
    per = 1.0
    if unit.startswith("w"):
        per = 7
    elif unit.startswith("mo"):
        per = 30
    elif unit.startswith("y"):
        per = 365
    elif unit.startswith("h"):
        per = 1 / 24
    p.duration_days = hi * per
    return None


def _route(m: re.Match[str], p: ParsedLine) -> str | None:
    r = ROUTES[m.group(0)]
    if p.route is not None and p.route != r:
        return f"a second route {m.group(0)!r}"
    p.route = r
    return None


def _form(m: re.Match[str], p: ParsedLine) -> str | None:
    word = m.group(0)
    if word in ("er", "xr", "sr", "cr", "la", "extended release", "extended-release", "ext rel"):
        p.formulation = "ER"
    elif word in ("ir", "immediate release", "immediate-release"):
        p.formulation = "IR"
    elif word in ("otc",):
        p.formulation = "OTC"
    elif p.form is None:
        p.form = "patch" if word.startswith("patch") else word.rstrip("s")
    return None


def _ignore(m: re.Match[str], p: ParsedLine) -> str | None:
    return None


def _dose(m: re.Match[str], p: ParsedLine) -> str | None:
    unit = UNIT_ALIASES[m.group("u")]
    try:
        lo = _number(m.group("a"))
        hi = _number(m.group("b")) if m.group("b") else None
    except ValueError:
        return f"unreadable number in {m.group(0)!r}"
    return _add_amount(p, lo, hi, unit, m.group(0), m.group("mult"))


def _word_strength(m: re.Match[str], p: ParsedLine) -> str | None:
    problem = _add_amount(p, float(m.group("s")), None, "%", m.group(0), None)
    return problem or _add_amount(p, float(_WORD_NUM[m.group("a")]), None, "patch",
                                  m.group(0), None)


def _word_dose(m: re.Match[str], p: ParsedLine) -> str | None:
    unit = UNIT_ALIASES[m.group("u")]
    return _add_amount(p, float(_WORD_NUM[m.group("a")]), None, unit, m.group(0), None)


def _number(tok: str) -> float:
    v = float(tok)
    if not math.isfinite(v):
        raise ValueError(tok)
    return v


def add_amount(p: ParsedLine, lo: float, hi: float | None, unit: str, text: str) -> str | None:
    """Add a dose (``lo``..``hi`` in a canonical ``unit``) to ``p`` as if read from ``text``;
    returns the problem, or None."""
    return _add_amount(p, lo, hi, unit, text, None)


def _add_amount(p: ParsedLine, lo: float, hi: float | None, unit: str, text: str,
                mult: str | None) -> str | None:
    if hi is not None and hi < lo:
        return f"dose range {text!r} runs backwards"
    if hi is not None and hi == lo:
        hi = None
    if mult is not None:
        k = float(mult)
        lo, hi = lo * k, (hi * k if hi is not None else None)
    if lo <= 0 or lo > 1e7 or (hi is not None and hi > 1e7):
        return f"implausible dose {text!r}"
    if unit == "%":
        if p.strength is not None:
            return f"a second strength {text!r}"
        if lo > 100 or (hi is not None and hi > 100):
            return f"impossible strength {text!r}"
        p.strength, p.strength_unit = lo, "%"
        if hi is not None:
            p.strength = hi  # a strength range: check the strongest
        return None
    if unit == "patch":
        p.form = "patch"
    if p.unit is None:
        p.dose, p.dose_max, p.unit = lo, hi, unit
        return None
    # A count of tablets together with a strength per tablet: "500 mg 2 tablets".
    if p.unit in COUNT_UNITS and unit not in COUNT_UNITS and unit != "patch":
        return _scale(p, lo, hi, unit)
    if unit in COUNT_UNITS and p.unit not in COUNT_UNITS and p.unit != "patch":
        cnt_lo, cnt_hi = lo, hi
        if p.dose is None or p.counted:
            return f"a second dose {text!r}"
        p.counted = True
        base_lo, base_hi = p.dose, p.dose_max
        p.dose = base_lo * cnt_lo
        p.dose_max = (base_hi if base_hi is not None else base_lo) * (
            cnt_hi if cnt_hi is not None else cnt_lo) if (base_hi or cnt_hi) else None
        return None
    return f"a second dose {text!r}"


def _scale(p: ParsedLine, lo: float, hi: float | None, unit: str) -> str | None:
    p.counted = True
    cnt_lo = p.dose or 1.0
    cnt_hi = p.dose_max if p.dose_max is not None else cnt_lo
    top = (hi if hi is not None else lo) * cnt_hi
    p.dose, p.unit = lo * cnt_lo, unit
    p.dose_max = top if top != p.dose else None
    return None


def _end_boundary(rx: str) -> str:
    """A final ``\\b`` fails after a dot (``b.i.d.``); use 'no word character follows'."""
    return rx[:-2] + r"(?!\w)" if rx.endswith(r")\b") else rx


_N = _NUM
_UNIT_RX = (r"(?:mg|mgs|mcg|ug|g|gm|gms|grams?|milligrams?|micrograms?|iu|i\.u\.|units?|ml|"
            r"millilit(?:er|re)s?|%|patch(?:es)?|tabs?|tablets?|caps?|capsules?|softgels?|"
            r"puffs?|drops?|sprays?|injections?)")
_DOSE_UNIT = rf"(?P<u>{_UNIT_RX})"
_COUNT_UNIT = (r"(?P<u>patch(?:es)?|tabs?|tablets?|caps?|capsules?|puffs?|drops?|sprays?|"
               r"injections?)")
# Daily caps: "up to 6 doses daily", "max 4 doses/day", "not to exceed 8 tabs", "up to tds".
_CAP_UPTO = r"(?:up ?to(?:(?: a)? max(?:imum)?(?: of)?)?)"
_CAP_MAX = (r"(?:to a max(?:imum)?(?: of)?|max(?:imum)?(?: of)?|max\.|not to exceed|"
            r"do not exceed|don't exceed|no more than|not more than)")
_CAP_PER = (r"(?:daily|a day|per day|/day|/d|each day|every day|in a day|in one day|"
            r"(?:(?:in|per|in any) |/)24 ?(?:h|hrs?|hours?)(?: period)?)")
_CAP_N = rf"(?P<n>\d+|{_WN})(?P<range>\s*(?:-|to)\s*(?:\d+|{_WN}))?"
_CAP_WHAT = rf"(?P<what>doses?|times|x|{_UNIT_RX})"
_CAP_FREQ = "(?:" + "|".join(re.escape(k) for k in sorted(_DAILY_COUNTS, key=len, reverse=True)
                             if _DAILY_COUNTS[k] > 1 or k.startswith("once")) + ")"
_RULES: list[tuple[str, _Handler]] = [
    # daily caps before durations: "up to 6 doses daily" is not a course of 6 doses
    # ("up to 2 tablets daily" is a dose, so "up to" caps count doses or times, or nothing)
    (rf"\(?{_CAP_UPTO}\s*{_CAP_N}\s*(?:(?P<what>doses?|times|x)\s*)?(?P<per>{_CAP_PER})\)?"
     r"(?!\w)", _cap),
    (rf"\(?{_CAP_MAX}\s*{_CAP_N}\s*(?:{_CAP_WHAT}\s*)?(?P<per>{_CAP_PER})\)?(?!\w)", _cap),
    (rf"\(?{_CAP_MAX}\s*{_CAP_N}\s*{_CAP_WHAT}\)?(?!\w)", _cap),
    (rf"\(?(?:{_CAP_UPTO}|{_CAP_MAX})\s*(?P<f>{_CAP_FREQ})\)?(?!\w)", _cap),
    # durations: "x 5 days" must not read as a dose
    (rf"(?:x|for|for up to|up to)\s*(?P<a>{_N})(?:\s*(?:-|to)\s*(?P<b>{_N}))?\s*"
     r"(?P<u>days?|d|weeks?|wks?|wk|months?|mos?|years?|yrs?|doses?|hours?|hrs?|h)\b", _duration),
    # frequency ranges before single frequencies
    (rf"q\s*(?P<a>\d+)\s*(?:-|to)\s*(?P<b>\d+)\s*{_HOURS}?(?![a-z])(?!\s*(?:d|days?|w|weeks?)\b)",
     _q_hours),
    (rf"every\s*(?P<a>\d+)\s*(?:-|to)\s*(?P<b>\d+)\s*{_HOURS}\b", _q_hours),
    (rf"(?:q|every)\s*(?P<a>\d+)(?P<b>)\s*{_HOURS}\b", _q_hours),
    (r"(?P<a>\d+)(?:\s*(?:-|to)\s*(?P<b>\d+))?\s*-?\s*(?:hourly|hrly)\b", _q_hours),
    (rf"(?:every|q)\s*(?P<a>\d+|{_WN})\s*(?:-|to|or)\s*(?P<b>\d+|{_WN})\s*{_HOURS}\b", _q_hours),
    (rf"(?:every|q)\s*(?P<a>{_WN})(?P<b>)\s*{_HOURS}\b", _q_hours),
    (rf"(?P<a>{_WN})(?:\s*(?:-|to|or)\s*(?P<b>{_WN}))?\s*-?\s*(?:hourly|hrly)\b", _q_hours),
    (r"q(?P<a>\d+)d\b", _q_days),
    # "bid-qid", "daily to bid", "tid or four times daily": a count range, worst case the top
    (rf"(?P<a>{_DAILY_ALT})\s*(?:-|to|or)\s*(?P<b>{_DAILY_ALT})(?!\w)", _daily_range),
    (r"(?:tid|three)\s*(?:-|to|or)\s*(?:qid|four)(?: times daily| times a day)?\b",
     _range_fixed(3, 4)),
    (r"(?P<a>once|twice|thrice|one|two|three|four|five|six|\d+)\s*(?:-|to|or)\s*"
     r"(?P<b>one|two|three|four|five|six|\d+)\s*(?:times|x)\s*" + _PER_DAY_WORDS, _count_daily),
    (r"(?P<a>one|two|three|four|five|six|\d+)(?P<b>)\s*(?:times|x)\s*" + _PER_DAY_WORDS,
     _count_daily),
    (r"(?:bd|b\.d\.|bid|b\.i\.d\.|twice daily|twice a day|twice per day|q12h)\b", _fixed(2)),
    (r"(?:tds|t\.d\.s\.|tid|t\.i\.d\.|three times daily|three times a day|"
     r"three times per day)\b", _fixed(3)),
    (r"(?:qds|q\.d\.s\.|qid|q\.i\.d\.|four times daily|four times a day|"
     r"four times per day)\b", _fixed(4)),
    (r"(?:weekly|once weekly|once a week|once per week|every week|qw|qwk|q1w|q week|"
     r"1x weekly|one time weekly)\b", _fixed(1, 7)),
    (r"(?:twice weekly|twice a week|biw|2x weekly)\b", _fixed(2, 7)),
    (r"(?:three times weekly|three times a week|tiw|3x weekly)\b", _fixed(3, 7)),
    (r"(?:monthly|once monthly|once a month|once per month|every month|q month|qmonth|"
     r"q1month)\b", _fixed(1, 30)),
    (r"(?:yearly|annually|once a year|once yearly|once per year|every year|"
     r"every 12 months|q12 months|q year)\b", _fixed(1, 365)),
    (r"(?:qod|every other day|alternate days|on alternate days)\b", _fixed(1, 2)),
    (r"(?:every|q)\s*(?P<a>\d+)\s*(?P<u>days?|weeks?|months?|years?)\b", _every_n_weeks),
    (r"(?:qd|q\.d\.|od|daily|once daily|once a day|once per day|once each day|every day|"
     r"/day|/d|each day|per day|a day|q24h|qam|qpm|every morning|every evening|every night|nightly|"
     r"in the morning|in the evening|q morning|once every day|one time daily|"
     r"12 ?h(?:ours?)? on(?: and)? 12 ?h(?:ours?)? off)\b", _fixed(1)),
    (r"(?:qhs|q\.h\.s\.|hs|h\.s\.|at bedtime|bedtime|at night|before bed)\b",
     _fixed(1, bedtime=True)),
    (r"(?:once|single dose|one time|x ?1|stat|one dose|single injection)\b", _once),
    # prn
    (r"(?:prn|p\.r\.n\.|as needed|as required|when required|if needed|when needed|"
     r"as necessary|when necessary|if required|if necessary)(?![a-z])(?:\s+for\b)?", _prn),
    # "one 5% patch"
    (rf"(?P<a>one|two|three|a|an)\s+(?P<s>{_N})\s*%\s+(?P<u>patch(?:es)?)\b", _word_strength),
    # doses: "2 x 500 mg" (count x strength), "800mg", "400-800 mg", "1 to 2 g", "5%"
    (rf"(?:(?P<mult>\d+)\s*x\s*)?(?P<a>{_N})(?:\s*(?:-|to)\s*(?P<b>{_N}))?\s*{_DOSE_UNIT}"
     r"(?![a-z])", _dose),
    (rf"(?P<a>one|two|three|four|five|six|half|a|an)\s+{_COUNT_UNIT}\b", _word_dose),
    # routes
    (r"(?:by mouth|per os|p\.o\.|iv infusion|intra-articular|intraarticular|to skin|"
     r"po|oral|orally|ivpb|iv|intravenously|intravenous|im|intramuscularly|intramuscular|"
     r"subcutaneously|subcutaneous|subcut|subq|sq|sc|s\.c\.|topically|topical|"
     r"transdermally|transdermal|td|pr|rectally|rectal|intranasal|nasal|ia|epidural|"
     r"inhaled)(?![a-z])", _route),
    # forms and release
    (r"(?:cream|gel|ointment|lotion|patch|patches|tablets?|tabs?|capsules?|caps?|solution|"
     r"liquid|suspension|syrup|injection|infusion|softgels?|chewables?|powder|"
     r"extended[- ]release|immediate[- ]release|ext rel|er|xr|sr|cr|la|ir|otc)\b", _form),
    # instructions and salt names we understand and that change nothing we check
    (r"(?:take|takes|apply|applied|give|inject|infuse|use|place|insert|chew|swallow|"
     r"with meals|with a meal|with food|after meals|before meals|with water|"
     r"with plain water|with a full glass of water|on an empty stomach|fasting|"
     r"before breakfast|after breakfast|with breakfast|with dinner|with lunch|"
     r"to affected area|to the affected area|thin film|of|and|then|each|per dose|"
     r"dose|sig|rx|upright|chelate|hcl|sodium|sulfate|tromethamine|dr|ec|"
     r"with or after food|after food|before food|"
     r"at the fusion site|at surgical site|over 15 minutes|in divided doses|divided)\b",
     _ignore),
]
# Which characters (and pairs of characters) each rule can start with, generated by
# ``python -m medref._sigtable`` (a test checks it is current): the parser tries only the rules
# that can start with the text at hand, and compiles each rule's regex the first time it is
# tried.
_FIRST: tuple[tuple[str | None, tuple[str, ...] | None], ...] = (
    ('(u', ('(u', 'up')),
    ('(dmnt', ('(d', '(m', '(n', '(t', 'do', 'ma', 'no', 'to')),
    ('(dmnt', ('(d', '(m', '(n', '(t', 'do', 'ma', 'no', 'to')),
    ('(dmntu', ('(d', '(m', '(n', '(t', '(u', 'do', 'ma', 'no', 'to', 'up')),
    ('fux', None),
    ('q', None),
    ('e', ('ev',)),
    ('eq', None),
    ('0123456789', None),
    ('eq', None),
    ('eq',
     ('ev', 'q\t', 'q\n', 'q\x0b', 'q\x0c', 'q\r', 'q ', 'qe', 'qf', 'qn', 'qo', 'qs', 'qt')),
    ('efnost', ('ei', 'el', 'fi', 'fo', 'ni', 'on', 'se', 'si', 'te', 'th', 'tw')),
    ('q', None),
    ('bdfoqt',
     ('b.', 'bd', 'bi', 'da', 'fo', 'od', 'on', 'q.', 'qd', 'qi', 't.', 'td', 'th', 'ti', 'tw')),
    ('t', ('th', 'ti')),
    ('0123456789fost', None),
    ('0123456789fost', None),
    ('bqt', ('b.', 'bd', 'bi', 'q1', 'tw')),
    ('t', ('t.', 'td', 'th', 'ti')),
    ('fq', ('fo', 'q.', 'qd', 'qi')),
    ('1eoqw', ('1x', 'ev', 'on', 'q ', 'q1', 'qw', 'we')),
    ('2bt', ('2x', 'bi', 'tw')),
    ('3t', ('3x', 'th', 'ti')),
    ('emoq', ('ev', 'mo', 'on', 'q ', 'q1', 'qm')),
    ('aeoqy', ('an', 'ev', 'on', 'q ', 'q1', 'ye')),
    ('aeoq', ('al', 'ev', 'on', 'qo')),
    ('eq', None),
    ('/1adeinopq',
     ('/d', '12', 'a ', 'da', 'ea', 'ev', 'in', 'ni', 'od', 'on', 'pe', 'q ', 'q.', 'q2', 'qa',
      'qd', 'qp')),
    ('abhq', ('at', 'be', 'h.', 'hs', 'q.', 'qh')),
    ('osx', ('on', 'si', 'st', 'x ', 'x1')),
    ('aipw', ('as', 'if', 'p.', 'pr', 'wh')),
    ('aot', ('a\t', 'a\n', 'a\x0b', 'a\x0c', 'a\r', 'a ', 'an', 'on', 'th', 'tw')),
    ('.0123456789', None),
    ('afhost',
     ('a\t', 'a\n', 'a\x0b', 'a\x0c', 'a\r', 'a ', 'an', 'fi', 'fo', 'ha', 'on', 'si', 'th',
      'tw')),
    ('beinoprst',
     ('by', 'ep', 'ia', 'im', 'in', 'iv', 'na', 'or', 'p.', 'pe', 'po', 'pr', 're', 's.', 'sc',
      'sq', 'su', 'td', 'to', 'tr')),
    ('cegilopstx',
     ('ca', 'ch', 'cr', 'er', 'ex', 'ge', 'im', 'in', 'ir', 'la', 'li', 'lo', 'oi', 'ot', 'pa',
      'po', 'so', 'sr', 'su', 'sy', 'ta', 'xr')),
    ('abcdefghioprstuw',
     ('af', 'an', 'ap', 'at', 'be', 'ch', 'di', 'do', 'dr', 'ea', 'ec', 'fa', 'gi', 'hc', 'in',
      'of', 'on', 'ov', 'pe', 'pl', 'rx', 'si', 'so', 'su', 'sw', 'ta', 'th', 'to', 'tr', 'up',
      'us', 'wi')),
)
_PATTERNS = tuple(_end_boundary(rx) for rx, _ in _RULES)
_HANDLERS = tuple(h for _, h in _RULES)
_ANYWHERE = tuple(i for i, (f, _) in enumerate(_FIRST) if f is None)


def _dispatch() -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """Rules to try by the next two characters (and by the next one, when those two are not
    a listed pair): each rule whose listed pairs include them, whose one-character match is
    the first, or that is dispatched on its first character only."""
    by_char: dict[str, list[int]] = {}
    by_pair: dict[str, list[int]] = {}
    chars = {c for f, _ in _FIRST if f for c in f}
    for i, (first, pairs) in enumerate(_FIRST):
        for c in chars:
            if first is None or (c in first and (pairs is None or c in pairs)):
                by_char.setdefault(c, []).append(i)
        for pair in pairs or ():
            if len(pair) == 2:
                by_pair.setdefault(pair, [])
    for pair, rules in by_pair.items():
        rules.extend(sorted(set(by_char.get(pair[0], ())) | {
            i for i, (_, pairs) in enumerate(_FIRST) if pairs and pair in pairs}))
    return ({k: tuple(v) for k, v in by_char.items()},
            {k: tuple(v) for k, v in by_pair.items()})


_BY_CHAR, _BY_PAIR = _dispatch()


@functools.cache
def _rx(i: int) -> re.Pattern[str]:
    """Rule ``i``'s regex, compiled on first use."""
    return re.compile(_PATTERNS[i])
_WORD = re.compile(r"\S+")
_MAX_UNPARSED = 12  # a line with more unknown words than this is not a sig: stop reading it
_PRN_REASON_STOP = 8  # at most this many words of PRN reason

# What may follow "prn" as its reason: short indications only. Anything else after "prn" (a
# number, a frequency or interval word, "may repeat", "with", a drug name) is read by the rules
# or left unparsed, so a dosing instruction can never hide in the reason.
_REASON_WORDS = frozenset({
    "pain", "pains", "painful", "ache", "aches", "aching", "headache", "headaches", "migraine",
    "migraines", "toothache", "earache", "backache", "fever", "fevers", "pyrexia", "temperature",
    "high", "nausea", "vomiting", "sickness", "sick", "dizziness", "vertigo", "giddiness",
    "anxiety", "agitation", "panic", "restlessness", "insomnia", "sleep", "sleeplessness",
    "sleeping", "cough", "coughing", "wheeze", "wheezing", "wheeziness", "breathlessness",
    "breath", "shortness", "dyspnoea", "dyspnea", "asthma", "itch", "itching", "itchy",
    "itchiness", "pruritus", "rash", "rashes", "hives", "urticaria", "allergy", "allergies",
    "allergic", "hayfever", "hay", "constipation", "diarrhoea", "diarrhea", "loose", "stool",
    "stools", "motions", "indigestion", "heartburn", "dyspepsia", "reflux", "acid", "wind",
    "bloating", "colic", "cramp", "cramps", "cramping", "spasm", "spasms", "stiffness", "swelling",
    "inflammation", "discomfort", "angina", "palpitations", "tremor", "flu", "cold", "colds",
    "congestion", "sinusitis", "symptoms", "symptom", "relief", "relieve", "dry", "eyes", "skin",
    "eczema", "psoriasis", "hot", "flushes", "flashes", "fluid", "retention", "arthritis",
    "osteoarthritis", "rheumatoid", "gout", "sciatica", "neuralgia", "soreness", "sore", "throat",
    "mouth", "muscle", "muscles", "muscular", "back", "neck", "joint", "joints", "knee",
    "shoulder", "hip", "chest", "head", "stomach", "abdominal", "tooth", "dental", "period",
    "periods", "menstrual", "leg", "legs", "nerve", "neuropathic", "bone", "bones", "severe",
    "mild", "moderate", "breakthrough", "acute", "chronic", "intermittent",
})
_REASON_JOIN = r"(?:for|or|and|of|to|the|in|from|a)"
_REASON_RX = re.compile(rf"(?:{_REASON_JOIN} )*(?P<w>[a-z]+)(?= |$)")


def _reason_at(rest: str, pos: int,
               resolve: Callable[[str], str | None] | None) -> re.Match[str] | None:
    """Reason words at ``pos`` (joining words, then one reason word), or None. Words that
    start a known drug or product name (``bone marrow aspirate``) are never a reason."""
    m = _REASON_RX.match(rest, pos)
    if m is None or m.group("w") not in _REASON_WORDS:
        return None
    if resolve is not None:
        for start in {pos, m.start("w")}:
            words = rest[start:].split(" ", 6)[:6]
            if any(resolve(" ".join(words[:k])) for k in range(1, len(words) + 1)):
                return None
    return m


_REASON_ENDS = frozenset({"and", "of", "or", "with"})
"""Joining words that, right after a PRN reason, lead into something else; shown unparsed."""


def _rule_at(rest: str, pos: int) -> tuple[re.Match[str], _Handler] | None:
    """The first rule that reads something at ``pos``, with its match."""
    rules = _BY_PAIR.get(rest[pos:pos + 2])
    if rules is None:
        rules = _BY_CHAR.get(rest[pos], _ANYWHERE)
    for i in rules:
        m = _rx(i).match(rest, pos)
        if m is not None and m.end() > pos:
            return m, _HANDLERS[i]
    return None


def parse_rest(rest: str, p: ParsedLine,
               resolve: Callable[[str], str | None] | None = None) -> None:
    """Parse everything after the name into ``p``; unknown text goes to ``p.unparsed``.

    ``resolve`` (the name resolver) keeps drug and product names out of a PRN reason.
    """
    scan_rest(rest, p, resolve)
    finish(p)


def scan_rest(rest: str, p: ParsedLine,
              resolve: Callable[[str], str | None] | None = None) -> None:
    """Like :func:`parse_rest` without :func:`finish`: for a line read in several fragments
    (a structured item's fields), call this on each fragment, then :func:`finish` once."""
    if _NEGATIVE.search(rest):
        p.problems.append("negative dose")
        rest = _NEGATIVE.sub("", rest)
    pos, n = 0, len(rest)
    reason: list[str] = []
    reason_open = True  # a PRN reason may still start (or go on) here
    caps: list[tuple[int, re.Match[str]]] = []
    while pos < n:
        if rest[pos] == " ":
            pos += 1
            continue
        if p.prn and reason_open:
            r = _reason_at(rest, pos, resolve)
            if r is not None and len(reason) + len(r.group(0).split()) <= _PRN_REASON_STOP:
                reason.extend(r.group(0).split())
                pos = r.end()
                continue
            # a reason, once started, ends at the first other word
            reason_ended, reason_open = bool(reason), not reason
        else:
            reason_ended = False
        hit = _rule_at(rest, pos)
        w = _WORD.match(rest, pos)
        word = w.group(0) if w else rest[pos]
        if hit is not None and not (reason_ended and word in _REASON_ENDS
                                    and hit[0].end() == pos + len(word)):
            m, handler = hit
            if handler is _cap:
                caps.append((len(p.unparsed), m))
            else:
                problem = handler(m, p)
                if problem:
                    p.problems.append(problem)
            pos = m.end()
            continue
        # not understood (and "and" in "pain and ketorolac" is shown, not ignored)
        reason_open = reason_open and not p.prn
        p.unparsed.append(word)
        if len(p.unparsed) > _MAX_UNPARSED:
            p.problems.append(f"more than {_MAX_UNPARSED} words not understood")
            break
        pos += len(word)
    if reason:
        p.prn_reason = " ".join(reason)
    _settle_caps(p, caps)


def finish(p: ParsedLine) -> None:
    """Settle what only the whole line decides (a strength alone is the dose: ``5% patch`` is
    one patch, ``0.075% cream`` is 0.075 %)."""
    _finish(p)


def _finish(p: ParsedLine) -> None:
    if p.unit is None and p.strength is not None:
        if p.form == "patch":
            p.dose, p.unit = 1.0, "patch"  # "5% patch": one patch
        else:
            p.dose, p.unit = p.strength, "%"  # "0.075% cream": the strength is the dose


_NAME_END = re.compile(r"\d|\.\d")
_NEGATIVE = re.compile(r"(?:^|(?<=[^\d\s] )|(?<=^ ))-(?=\s*\.?\d)")


def split_name(norm: str, resolve: Callable[[str], str | None],
               max_words: int = 6) -> tuple[str, str | None, str]:
    """Split a normalized line into (name text, product id or None, rest).

    Tries the longest known name first (``vitamin d3``, ``zoledronic acid``). When nothing
    is known, the name is the text before the first number or known token.
    """
    words = norm.split(" ")
    for k in range(min(max_words, len(words)), 0, -1):
        cand = " ".join(words[:k])
        pid = resolve(cand)
        if pid is not None:
            return cand, pid, " ".join(words[k:])
    # unknown: take words up to the first that starts with a digit or is a known token
    name_words: list[str] = []
    for i, w in enumerate(words[:max_words * 2]):
        if _NAME_END.match(w) or (i > 0 and _is_known_token(w)):
            break
        name_words.append(w)
    if not name_words:
        name_words = words[:1]
    return " ".join(name_words), None, " ".join(words[len(name_words):])


def _is_known_token(word: str) -> bool:
    if not word:
        return False
    rules = _BY_PAIR.get(word[:2])
    if rules is None:
        rules = _BY_CHAR.get(word[0], _ANYWHERE)
    return any(_rx(i).fullmatch(word) for i in rules)


def parse_line(text: str, resolve: Callable[[str], str | None]) -> ParsedLine:
    """Read one sig line.

    Args:
        text: the line as typed (``"Tylenol 1 g q6h prn pain"``).
        resolve: maps a normalized name to a canonical id, or None when unknown.

    Returns:
        The parsed line. ``product`` is None when the name is unknown; ``unparsed`` lists
        words that were not understood and ``problems`` parts that were understood but
        impossible (``q0h``, a negative dose).

    Raises:
        SigError: the line is empty, too long, or has no name.
    """
    if not isinstance(text, str):
        raise SigError("a line must be text", part=repr(text)[:60])
    if len(text) > MAX_LINE_CHARS:
        raise SigError(f"line is longer than {MAX_LINE_CHARS} characters", part=text[:40] + "...")
    norm = normalize(text)
    if not norm:
        raise SigError("empty line", part="")
    p = ParsedLine(text=text, norm=norm)
    name, pid, rest = split_name(norm, resolve)
    if not name or _NAME_END.match(name):
        raise SigError("no drug or supplement name at the start of the line", part=norm[:40])
    p.name, p.product = name, pid
    parse_rest(rest, p, resolve)
    return p


def parse_frequency(text: str) -> Frequency:
    """Read a frequency on its own (a structured item's ``frequency`` field).

    Raises:
        SigError: the text is not a frequency medref understands.
    """
    p = ParsedLine(text=text)
    norm = normalize(text)
    parse_rest(norm, p)
    if p.frequency is None or p.problems or p.unparsed or p.unit is not None:
        bad = "; ".join(p.problems) or " ".join(p.unparsed) or norm
        raise SigError(f"not a frequency medref understands: {text!r}", part=bad)
    return p.frequency
