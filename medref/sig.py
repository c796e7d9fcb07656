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

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from medref.errors import SigError

MAX_LINE_CHARS = 500
"""Longer lines are rejected as unparseable without being scanned (bounded work per line)."""

_DASH_CHARS = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_DASHES = dict.fromkeys(map(ord, _DASH_CHARS), "-")
_DASHES.update({ord("\u00d7"): "x", ord("\u00b5"): "u", ord("\u03bc"): "u"})
_SPACES = dict.fromkeys(map(ord, "\t\n\r\v\f\x1c\x1d\x1e\x1f\x85\u2028\u2029"), " ")


def normalize(text: str) -> str:
    """Fold a line for matching: NFKC, lower case, one kind of dash, single spaces.

    Control characters and bidirectional marks are removed; a comma between digit groups
    (``1,000``) is kept as a thousands separator, other commas become spaces.
    """
    s = unicodedata.normalize("NFKC", text).translate(_DASHES).casefold()
    s = s.translate(_SPACES)
    if not s.isascii() or any(c < " " for c in s):
        s = "".join(c for c in s if unicodedata.category(c)[0] != "C")
    s = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", s)
    s = s.replace(",", " ").replace(";", " ")
    return " ".join(s.split())


@dataclass(frozen=True, slots=True)
class Frequency:
    """How often a dose is taken.

    Either an interval (``interval_min_h``..``interval_max_h`` hours between doses, ``q4-6h``)
    or a count per window (``count_min``..``count_max`` administrations per ``window_days``).
    ``once`` marks a single administration.
    """

    text: str
    count_min: float = 1
    count_max: float = 1
    window_days: float = 1
    interval_min_h: float | None = None
    interval_max_h: float | None = None
    once: bool = False
    bedtime: bool = False

    def max_in(self, days: float) -> int:
        """Worst-case (largest) number of administrations within a window of ``days``."""
        if self.once:
            return 1
        if self.interval_min_h is not None:
            return max(1, math.ceil(days * 24 / self.interval_min_h - 1e-9))
        count = math.ceil(self.count_max)
        if days < self.window_days:
            # "twice weekly": doses fall on separate days, so at most one a day
            return max(1, min(count, math.ceil(days - 1e-9)))
        return math.ceil(days / self.window_days - 1e-9) * count

    def min_in(self, days: float) -> float:
        """Fewest administrations expected within ``days`` (for the below-typical check)."""
        if self.once:
            return 1
        if self.interval_max_h is not None:
            return days * 24 / self.interval_max_h
        return days / self.window_days * self.count_min

    @property
    def per_day_max(self) -> int:
        """Worst-case administrations in one day."""
        return self.max_in(1)


@dataclass(slots=True)
class ParsedLine:
    """A sig line read into its parts. Amounts are in ``unit`` as written."""

    text: str
    name: str = ""
    product: str | None = None
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


def _q_hours(m: re.Match[str], p: ParsedLine) -> str | None:
    lo = float(m.group("a"))
    hi = float(m.group("b")) if m.group("b") else lo
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
        if p.dose is None:
            return f"a second dose {text!r}"
        base_lo, base_hi = p.dose, p.dose_max
        p.dose = base_lo * cnt_lo
        p.dose_max = (base_hi if base_hi is not None else base_lo) * (
            cnt_hi if cnt_hi is not None else cnt_lo) if (base_hi or cnt_hi) else None
        return None
    return f"a second dose {text!r}"


def _scale(p: ParsedLine, lo: float, hi: float | None, unit: str) -> str | None:
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
_DOSE_UNIT = (r"(?P<u>mg|mgs|mcg|ug|g|gm|gms|grams?|milligrams?|micrograms?|iu|i\.u\.|units?|ml|"
              r"millilit(?:er|re)s?|%|patch(?:es)?|tabs?|tablets?|caps?|capsules?|softgels?|"
              r"puffs?|drops?|sprays?|injections?)")
_COUNT_UNIT = (r"(?P<u>patch(?:es)?|tabs?|tablets?|caps?|capsules?|puffs?|drops?|sprays?|"
               r"injections?)")
_RULES: list[tuple[str, _Handler]] = [
    # durations first: "x 5 days" must not read as a dose
    (rf"(?:x|for|for up to|up to)\s*(?P<a>{_N})(?:\s*(?:-|to)\s*(?P<b>{_N}))?\s*"
     r"(?P<u>days?|d|weeks?|wks?|wk|months?|mos?|years?|yrs?|doses?|hours?|hrs?|h)\b", _duration),
    # frequency ranges before single frequencies
    (rf"q\s*(?P<a>\d+)\s*(?:-|to)\s*(?P<b>\d+)\s*{_HOURS}?(?![a-z])(?!\s*(?:d|days?|w|weeks?)\b)",
     _q_hours),
    (rf"every\s*(?P<a>\d+)\s*(?:-|to)\s*(?P<b>\d+)\s*{_HOURS}\b", _q_hours),
    (rf"(?:q|every)\s*(?P<a>\d+)(?P<b>)\s*{_HOURS}\b", _q_hours),
    (r"(?P<a>\d+)(?:\s*(?:-|to)\s*(?P<b>\d+))?\s*(?:hourly|hrly)\b", _q_hours),
    (r"q(?P<a>\d+)d\b", _q_days),
    (r"(?:qd|daily|once daily)\s*(?:-|to|or)\s*(?:bid|twice daily)\b", _range_fixed(1, 2)),
    (r"bid\s*(?:-|to|or)\s*tid\b", _range_fixed(2, 3)),
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
     r"dose|sig|rx|upright|may repeat|chelate|hcl|sodium|sulfate|tromethamine|dr|ec|"
     r"at the fusion site|at surgical site|over 15 minutes|in divided doses|divided)\b",
     _ignore),
]
_COMPILED = [(re.compile(_end_boundary(rx)), h) for rx, h in _RULES]
_WORD = re.compile(r"\S+")
_MAX_UNPARSED = 12  # a line with more unknown words than this is not a sig: stop reading it
_PRN_REASON_STOP = 8  # words of PRN reason we absorb before requiring known tokens again


def parse_rest(rest: str, p: ParsedLine) -> None:
    """Parse everything after the name into ``p``; unknown text goes to ``p.unparsed``."""
    pos, n = 0, len(rest)
    reason: list[str] = []
    while pos < n:
        if rest[pos] == " ":
            pos += 1
            continue
        for rx, handler in _COMPILED:
            m = rx.match(rest, pos)
            if m is None or m.end() == pos:
                continue
            problem = handler(m, p)
            if problem:
                p.problems.append(problem)
            pos = m.end()
            break
        else:
            w = _WORD.match(rest, pos)
            word = w.group(0) if w else rest[pos]
            if p.prn and len(reason) < _PRN_REASON_STOP and word.isalpha():
                reason.append(word)
            else:
                p.unparsed.append(word)
                if len(p.unparsed) > _MAX_UNPARSED:
                    p.problems.append(f"more than {_MAX_UNPARSED} words not understood")
                    break
            pos += len(word)
    if reason:
        p.prn_reason = " ".join(reason)
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
    return any(rx.fullmatch(word) for rx, _ in _COMPILED)


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
    p = ParsedLine(text=text)
    name, pid, rest = split_name(norm, resolve)
    if not name or _NAME_END.match(name):
        raise SigError("no drug or supplement name at the start of the line", part=norm[:40])
    p.name, p.product = name, pid
    if _NEGATIVE.search(rest):
        p.problems.append("negative dose")
        rest = _NEGATIVE.sub("", rest)
    parse_rest(rest, p)
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
