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
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field

from medref.errors import SigError
from medref.regimen import Frequency
from medref.text import normalize

__all__ = ["MAX_LINE_CHARS", "Frequency", "ParsedLine", "add_amount", "finish", "normalize",
           "parse_frequency", "parse_line", "parse_rest", "scan_rest", "split_name"]

MONTH_DAYS = 365 / 12
"""A month between doses (``monthly``, ``every 2 months``): a twelfth of a year."""

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
    count: float | None = None
    """Units of use per administration as written (``1-2 tabs``: 1), or None."""
    count_max: float | None = None
    count_unit: str | None = None
    """What is counted: tablet, capsule, caplet, patch, spray ..., or ``each`` for a bare
    count (``take 1 by mouth``)."""
    per_unit: float | None = None
    """The strength per unit written with a count (``500 mg tablet: take 2``: 500), if any."""
    per_unit_max: float | None = None
    per_unit_unit: str | None = None
    combo: tuple[float, ...] | None = None
    """A combination strength as written (``10/325``)."""
    combo_ok: bool = False
    """The product named is a combination (set before the rest of the line is read)."""
    stated_total: tuple[float, str, str] | None = None
    """A dose's total written in parentheses after a count (``take 2 tablets (1,000 mg
    total)``, as EHRs print sigs): (amount, unit, text), settled by :func:`finish`."""
    combo_strengths: frozenset[tuple[float, ...]] = frozenset()
    """The marketed strengths of that combination, each in its components' order (empty when
    not known): a hyphenated pair that is none of them and ascends is a dose range."""
    cap_units: float | None = None
    """A written maximum of units of use per day (``max 8 tabs a day``)."""
    cap_unit: str | None = None
    cap_amount: float | None = None
    """A written maximum amount per day (``mdd 3 g``)."""
    cap_amount_unit: str | None = None
    cap_text: str | None = None
    cap_per_day: bool = True
    """False when the cap names no period (``max 8 tablets``): reported, not applied."""
    steps: int = 1
    """Steps of a multi-step sig (``... x 3 days then ...``)."""
    step_texts: list[str] = field(default_factory=list)
    dayparts: list[str] = field(default_factory=list)
    """Times of day named (``mane``, ``nocte``, ``morning and night``): one administration
    each."""
    slot_counts: list[float] = field(default_factory=list)
    """Units of use given at each named time (``1 mane 2 nocte``: 1, 2)."""
    slot_units: float | None = None
    """Units of use a day when each time of day has its own count (``1 mane 2 nocte``: 3)."""
    indication: str | None = None
    """What the medicine is for, as written (``for blood pressure``), when not a PRN reason."""
    notes: list[str] = field(default_factory=list)
    """Instructions read and set aside: dispensing notes (``dispense weekly``)."""
    sides: int = 1
    """Nostrils a dose is given in (``2 sprays in each nostril``: 2): the dose as written is
    per nostril, and :func:`finish` makes it the whole administration's."""

    @property
    def dose_worst(self) -> float | None:
        """The largest dose per administration (top of a range)."""
        return self.dose_max if self.dose_max is not None else self.dose


UNIT_ALIASES = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "mgs": "mg",
    "mcg": "mcg", "ug": "mcg", "microgram": "mcg", "micrograms": "mcg",
    "g": "g", "gm": "g", "gram": "g", "grams": "g", "gms": "g",
    "iu": "IU", "unit": "IU", "units": "IU", "i.u.": "IU",
    "meq": "mEq", "meqs": "mEq", "milliequivalent": "mEq", "milliequivalents": "mEq",
    "ml": "mL", "mls": "mL", "milliliter": "mL", "milliliters": "mL", "millilitre": "mL",
    "millilitres": "mL",
    "%": "%",
    "patch": "patch", "patches": "patch",
    "tab": "tablet", "tabs": "tablet", "tablet": "tablet", "tablets": "tablet",
    "cap": "capsule", "caps": "capsule", "capsule": "capsule", "capsules": "capsule",
    "softgel": "capsule", "softgels": "capsule", "caplet": "caplet", "caplets": "caplet",
    "puff": "puff", "puffs": "puff", "puf": "puff", "pufs": "puff", "drop": "drop",
    "drops": "drop", "gtt": "drop", "gtts": "drop",
    "spray": "spray", "sprays": "spray", "injection": "injection", "injections": "injection",
}
_RATE_UNIT = "mcg/h"
"""A delivery rate (fentanyl patches: ``25 mcg/hr``)."""
COUNT_UNITS = frozenset({"tablet", "capsule", "caplet", "puff", "drop", "spray", "injection",
                         "each"})
"""Units that count units of use; ``each`` is a bare count (``take 1``)."""

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
    "by inhalation": "inhaled", "inhalation": "inhaled", "via nebulizer": "inhaled",
    "via nebuliser": "inhaled", "nebulized": "inhaled", "nebulised": "inhaled",
    "ophthalmic": "ophthalmic", "ou": "ophthalmic",
    "sl": "sl", "sublingual": "sl", "sublingually": "sl",
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
_PER_DAY_WORDS = r"(?:daily|a day|per day|each day|/ ?day|/ ?d|every day|in 24 hours|a d)"

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
        if n is None and _record_cap(p, m):
            continue
        p.unparsed[index:index] = m.group(0).split()


def _record_cap(p: ParsedLine, m: re.Match[str]) -> bool:
    """Keep a written maximum of units or of an amount (``max 8 tabs a day``, ``mdd 3 g``):
    reported beside the worst case, never multiplied into the dose. False when it is neither."""
    g = m.groupdict()
    what = g.get("what")
    unit = UNIT_ALIASES.get(what or "")
    top = g["range"].replace("-", " ").split()[-1] if g.get("range") else g["n"]
    value = float(_NUM_WORDS.get(top, top))
    if (unit is None and what is None and g.get("per") and p.count_unit in COUNT_UNITS
            and p.frequency is not None):
        # "max 8/day" on a line counting tablets, with a frequency: tablets, where that is
        # the only reading (one tablet a dose, so tablets and doses agree; or more than the
        # frequency's doses a day, which as doses would contradict the frequency), and never
        # more than the frequency's worst case of tablets (``max 1200/day`` is milligrams,
        # not a count). "1-2 tabs q4h max 4/day" could be 4 tablets or 4 doses (8 tablets):
        # left unread (MR007), the frequency's worst case stands
        per_dose = p.count_max if p.count_max is not None else p.count
        doses = p.frequency.per_day_max
        if (per_dose is not None and value <= per_dose * doses
                and (per_dose <= 1 or value > doses)):
            unit = p.count_unit
    if unit is None or p.cap_text is not None:
        return False
    per_day = bool(g.get("per")) or m.group(0).lstrip("(").startswith("mdd")
    if unit in COUNT_UNITS or unit == "patch":
        p.cap_units, p.cap_unit = value, unit
    else:
        p.cap_amount, p.cap_amount_unit = value, unit
    p.cap_text, p.cap_per_day = m.group(0).strip("() "), per_day
    return True


def _every_n_weeks(m: re.Match[str], p: ParsedLine) -> str | None:
    a = m.group("a") or "1"
    n = float(_NUM_WORDS.get(a, a))
    unit = m.group("u")
    days = {"day": 1, "week": 7, "month": MONTH_DAYS, "year": 365}[unit.rstrip("s")]
    if not 0 < n * days <= 3660:
        return f"impossible dosing interval {m.group(0)!r}"
    return _set_freq(p, _f(m.group(0), window_days=n * days))


def _on_off(m: re.Match[str], p: ParsedLine) -> str | None:
    """``12 hours on, 12 hours off`` (a patch): one application a day, worn 12 hours; with a
    daily frequency already read it says the same."""
    if p.frequency is not None:
        return None if p.frequency.per_day_max == 1 else f"a second frequency {m.group(0)!r}"
    return _set_freq(p, Frequency(text=m.group(0)))


def _once(m: re.Match[str], p: ParsedLine) -> str | None:
    return _set_freq(p, _f(m.group(0), once=True))


def _prn(m: re.Match[str], p: ParsedLine) -> str | None:
    p.prn = True
    return None


def _repeat(m: re.Match[str], p: ParsedLine) -> str | None:
    """``may repeat in 2 h``: a dose taken as needed that may be taken again after N hours,
    read as every N hours as needed (the worst case repeats it all day, within a written daily
    maximum; how many repeats is assumed, so a daily limit exceeded on it is at most a warning:
    :attr:`Frequency.repeats_assumed`); ``may repeat once`` (``x1``): at most two doses a
    day. Said after another frequency, or with neither, it is not understood (shown, never
    guessed)."""
    once = m.group("once") or m.group("once2")
    if p.frequency is not None or (not once and not m.group("a")):
        p.unparsed.append(m.group(0))
        return None
    p.prn = True
    if once:
        return _set_freq(p, Frequency(text=m.group(0), count_min=1, count_max=2))
    h = _hours(m.group("a"))
    if h not in _VALID_INTERVALS:
        return f"impossible dosing interval {m.group(0)!r} (every {h:g} hours)"
    return _set_freq(p, _interval(h, h, m.group(0))._replace(repeats_assumed=True))


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


def _day_one(m: re.Match[str], p: ParsedLine) -> str | None:
    """``day 1``, ``on the first day``: the step is taken that day only: once (a Z-Pak's
    ``500 mg day 1 then 250 mg daily x 4 days``), or, after a frequency, for one day
    (``100 mg bid on the first day then 100 mg daily``)."""
    if p.frequency is None:
        return _set_freq(p, _f(m.group(0), once=True))
    if p.duration_days is None and p.duration_doses is None:
        p.duration_days = 1.0
    return None


def _day_span(m: re.Match[str], p: ParsedLine) -> str | None:
    """``days 2-5``, ``on days 2 through 5``: a duration of that many days."""
    lo, hi = int(m.group("a")), int(m.group("b"))
    if not 1 <= lo <= hi <= 366:
        return f"impossible days {m.group(0)!r}"
    if p.duration_days is not None or p.duration_doses is not None:
        return f"a second duration {m.group(0)!r}"
    p.duration_days = float(hi - lo + 1)
    return None


_CAUTION = re.compile(r"\b(?:avoid|not|never|keep|away|contact|getting|get|out of|except)\b"
                      r"(?:\s+[a-z]+){0,3}\s*$")
"""Words before an eye or nose phrase that make it a caution (``avoid getting in eyes``,
``do not spray in eyes``), not where the dose goes."""


def _route(m: re.Match[str], p: ParsedLine) -> str | None:
    text = m.group(0)
    if (("eye" in text or "nostril" in text or "nare" in text)
            and _CAUTION.search(m.string, max(0, m.start() - 30), m.start())):
        p.notes.append(text)  # "avoid getting in eyes": a caution, set aside
        return None
    r = ("ophthalmic" if text.endswith(("eye", "eyes", "eye(s)")) else
         "intranasal" if "nostril" in text or "nare" in text or text == "en" else
         "sl" if text.endswith("tongue") else ROUTES[text])
    if ((("nostril" in text or "nare" in text) and not text.endswith(
            ("one nostril", "the nostril", "either nostril", "one nare", "one naris")))
            or text == "en"):
        p.sides = 2  # "in each nostril", "per nostril", "in both nostrils", "both nares", EN
    if p.route is not None and p.route != r:
        return f"a second route {m.group(0)!r}"
    p.route = r
    return None


_INJECTABLE_FORMS = frozenset({"injection", "inj", "autoinjector", "auto-injector", "statdose",
                               "prefilled syringe", "pen injector"})
"""Words that say a dose is injected (:func:`medref.dosing.resolve` takes the drug's one
injectable route when the line names none)."""


def _form(m: re.Match[str], p: ParsedLine) -> str | None:
    word = m.group(0)
    if word in ("er", "xr", "xl", "xt", "sr", "cr", "cd", "la", "extended release",
                "extended-release", "ext rel"):
        p.formulation = "ER"
    elif word in ("ir", "immediate release", "immediate-release"):
        p.formulation = "IR"
    elif word in ("otc",):
        p.formulation = "OTC"
    elif word in _INJECTABLE_FORMS:
        if p.form is None:
            p.form = "injection"  # the drug's one injectable route, once resolved
    elif word == "odt" or word.startswith("orally disintegrating"):
        if p.form is None:
            p.form = "tablet"  # an orally disintegrating tablet: by mouth, counted in tablets
    elif p.form is None:
        p.form = "patch" if word.startswith("patch") else word.rstrip("s")
    return None


def _ignore(m: re.Match[str], p: ParsedLine) -> str | None:
    return None


def _dose(m: re.Match[str], p: ParsedLine) -> str | None:
    u = m.group("u")
    unit = UNIT_ALIASES.get(u) or _RATE_UNIT if "/" in u or " per " in u else UNIT_ALIASES[u]
    try:
        lo = _number(m.group("a"))
        hi = _number(m.group("b")) if m.group("b") else None
    except ValueError:
        return f"unreadable number in {m.group(0)!r}"
    return _add_amount(p, lo, hi, unit, m.group(0), m.group("mult"))


def _stated_total(m: re.Match[str], p: ParsedLine) -> str | None:
    """``(1,000 mg total)``, ``(5 mg)`` after a count: the dose's total as the sig states
    it; :func:`finish` takes it as the dose when the line has none, and shows it as not
    understood when it disagrees with the dose read."""
    try:
        amount = _number(m.group("a"))
    except ValueError:
        return f"unreadable number in {m.group(0)!r}"
    if p.stated_total is not None:
        p.unparsed.append(m.group(0))
        return None
    p.stated_total = (amount, UNIT_ALIASES[m.group("u")], m.group(0))
    return None


def _word_strength(m: re.Match[str], p: ParsedLine) -> str | None:
    problem = _add_amount(p, float(m.group("s")), None, "%", m.group(0), None)
    return problem or _add_amount(p, float(_WORD_NUM[m.group("a")]), None, "patch",
                                  m.group(0), None)


def _word_range_dose(m: re.Match[str], p: ParsedLine) -> str | None:
    """``one or two tablets``, ``1 or 2 caps``: a count range of units."""
    unit = UNIT_ALIASES[m.group("u")]
    lo = float(_WORD_NUM.get(m.group("a"), 0) or m.group("a"))
    hi = float(_WORD_NUM.get(m.group("b"), 0) or m.group("b"))
    return _add_amount(p, lo, hi, unit, m.group(0), None)


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
        if p.unit == _RATE_UNIT and p.dose is not None:
            # "25 mcg/hr patch: apply 1 patch": the rate is per patch; more patches add up
            k = hi if hi is not None else lo
            p.count, p.count_max, p.count_unit = lo, hi, "patch"
            if k != 1:
                p.dose_max = (p.dose_max or p.dose) * k
                p.dose = p.dose * lo
            return None
    if p.unit is None:
        p.dose, p.dose_max, p.unit = lo, hi, unit
        if unit in COUNT_UNITS or unit == "patch":
            p.count, p.count_max, p.count_unit = lo, hi, unit
        return None
    # A count of tablets together with a strength per tablet: "500 mg 2 tablets".
    if p.unit in COUNT_UNITS and unit not in COUNT_UNITS and unit != "patch":
        return _scale(p, lo, hi, unit)
    if unit in COUNT_UNITS and p.unit not in COUNT_UNITS and p.unit != "patch":
        # "500 mg 2 tablets" (a mass strength with a count of patches is a delivery rate per
        # day, not read: "estradiol 0.05 mg patch: apply 1 patch twice weekly")
        cnt_lo, cnt_hi = lo, hi
        if p.dose is None or p.counted:
            return f"a second dose {text!r}"
        p.counted = True
        base_lo, base_hi = p.dose, p.dose_max
        p.per_unit, p.per_unit_max, p.per_unit_unit = base_lo, base_hi, p.unit
        p.count, p.count_max, p.count_unit = cnt_lo, cnt_hi, unit
        p.dose = base_lo * cnt_lo
        p.dose_max = (base_hi if base_hi is not None else base_lo) * (
            cnt_hi if cnt_hi is not None else cnt_lo) if (base_hi or cnt_hi) else None
        return None
    return f"a second dose {text!r}"


def _scale(p: ParsedLine, lo: float, hi: float | None, unit: str) -> str | None:
    p.counted = True
    p.per_unit, p.per_unit_max, p.per_unit_unit = lo, hi, unit
    cnt_lo = p.dose or 1.0
    cnt_hi = p.dose_max if p.dose_max is not None else cnt_lo
    top = (hi if hi is not None else lo) * cnt_hi
    p.dose, p.unit = lo * cnt_lo, unit
    p.dose_max = top if top != p.dose else None
    return None


_COUNT_WORDS = {"one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0,
                "seven": 7.0, "eight": 8.0, "half": 0.5, "a": 1.0,
                "an": 1.0, "1/2": 0.5, "½": 0.5}
_MAX_BARE_COUNT = 10
"""A bare number above this is not read as a count of tablets (``ibuprofen 800 tid``)."""


def _count_value(tok: str) -> float:
    return _COUNT_WORDS[tok] if tok in _COUNT_WORDS else float(tok)


def _bare_count(m: re.Match[str], p: ParsedLine) -> str | None:
    """A count with no unit (``take 1 by mouth``, ``1-2 four times a day``, ``one or two``):
    units of use of the product named; a count of ``each`` until the product says what."""
    lo = _count_value(m.group("a"))
    hi = _count_value(m.group("b")) if m.group("b") else None
    take = m.group(0).startswith("take")
    if p.dayparts and p.slot_counts and p.count_unit is not None and lo <= _MAX_BARE_COUNT \
            and (hi is None or hi <= _MAX_BARE_COUNT):
        # "1 mane 2 nocte": the count for the next time of day; the dose is the largest
        top = hi if hi is not None else lo
        p.slot_counts.append(top)
        if top > (p.count_max if p.count_max is not None else p.count or 0.0):
            _raise_count(p, top)
        return None
    if (p.unit is not None and not take and p.form in COUNT_UNITS and not p.counted
            and p.unit not in COUNT_UNITS and lo <= _MAX_BARE_COUNT
            and (hi is None or hi <= _MAX_BARE_COUNT)):
        # "500 mg tablet: 1 at night": a count of the form named
        return _add_amount(p, lo, hi, p.form, m.group(0), None)
    if (lo > _MAX_BARE_COUNT or (hi is not None and hi > _MAX_BARE_COUNT) or lo <= 0
            or (p.unit is not None and not take)):
        # after a dose, a bare number is not a count ("1 g q6h prn pain 2 more"): shown
        p.unparsed.append(m.group(0))
        return None
    if p.unit is not None and (p.unit in COUNT_UNITS or p.counted):
        return f"a second dose {m.group(0)!r}"
    return _add_amount(p, lo, hi, "each", m.group(0), None)


def _raise_count(p: ParsedLine, top: float) -> None:
    """The largest count per administration is now ``top`` (a time of day's own count)."""
    base = p.count or 1.0
    p.count_max = top
    if p.counted and p.per_unit is not None:
        p.dose_max = (p.per_unit_max if p.per_unit_max is not None else p.per_unit) * top
    elif p.dose is not None:
        p.dose_max = p.dose * top / base


def _combo(m: re.Match[str], p: ParsedLine) -> str | None:
    """A combination strength (``10/325``, ``5-325``, ``5 mg/325 mg``, ``20/12.5``): read for
    a combination product; anywhere else it is not understood. Under 100 both amounts must
    have two digits (``20/12.5``), so a fraction (``1/2``) is never a strength."""
    nums = tuple(float(x) for x in (m.group("a"), m.group("b"), m.group("c")) if x)
    # two small amounts are a strength only first after the name ("Zestoretic 20/12.5"):
    # later on the line "90/60" is a blood pressure, "11/20" a date
    if (not p.combo_ok or min(nums) < 10 <= max(nums) < 100 or max(nums) < 10
            or (max(nums) < 100 and m.start() > 0)):
        p.unparsed.append(m.group(0))
        return None
    if p.combo is not None:
        return f"a second strength {m.group(0)!r}"
    p.combo = nums
    return None


def _combo_first(m: re.Match[str], p: ParsedLine) -> str | None:
    """A hyphenated strength of two amounts of two digits or more (``20-12.5``,
    ``100-25``): a combination strength only first after the name; elsewhere a hyphen between
    two numbers is a range or a reading ("hold if SBP 100-110") and is not understood. An
    ascending pair that is not one of the product's strengths is a dose range
    (``acetaminophen/codeine 30-60 mg``: codeine 30 to 60 mg), read as any dose."""
    if m.start() > 0:
        p.unparsed.append(m.group(0))
        return None
    a, b = float(m.group("a")), float(m.group("b"))
    if (a <= b and p.combo_strengths and (a, b) not in p.combo_strengths
            and (b, a) not in p.combo_strengths):
        d = _rx(_DOSE_RULE).match(m.string, m.start())
        if d is not None and d.end() == m.end():
            return _dose(d, p)
    return _combo(m, p)


_DAYS = {"mon": "mon", "monday": "mon", "mondays": "mon", "tue": "tue", "tues": "tue",
         "tuesday": "tue", "tuesdays": "tue", "wed": "wed", "wednesday": "wed",
         "wednesdays": "wed", "thu": "thu", "thur": "thu", "thurs": "thu", "thursday": "thu",
         "thursdays": "thu", "fri": "fri", "friday": "fri", "fridays": "fri", "sat": "sat",
         "saturday": "sat", "saturdays": "sat", "sun": "sun", "sunday": "sun",
         "sundays": "sun"}
_DAY_RX = "(?:" + "|".join(sorted(_DAYS, key=len, reverse=True)) + ")"


def _weekdays(m: re.Match[str], p: ParsedLine) -> str | None:
    """Named weekdays (``mon wed fri``, ``on mondays and thursdays``, ``mwf``): that many
    administrations a week, at most one a day."""
    text = m.group("days")
    days = ({"mon", "wed", "fri"} if text == "mwf" else
            {_DAYS[w] for w in re.findall(r"[a-z]+", text) if w in _DAYS})
    n = float(len(days))
    return _set_freq(p, Frequency(text=m.group(0), count_min=n, count_max=n, window_days=7))


_TIME = r"(?:\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2}|midnight)"


def _times(m: re.Match[str], p: ParsedLine) -> str | None:
    """Times of day (``at 8 am and 2 pm``, ``08:00 and 20:00``): that many a day."""
    times = [" ".join(t.split()) for t in re.findall(_TIME, m.group("t"))]
    return _add_parts(p, times, m.group(0))


_DAYPARTS = {"morning": "morning", "mane": "morning", "am": "morning", "om": "morning",
             "a.m.": "morning", "breakfast": "morning", "midday": "midday", "noon": "midday",
             "lunchtime": "midday", "lunch": "midday", "afternoon": "afternoon",
             "teatime": "evening", "tea time": "evening", "evening": "evening",
             "pm": "evening", "p.m.": "evening", "night": "night", "nocte": "night",
             "noct": "night", "on": "night", "bedtime": "night", "hs": "night",
             "qhs": "night", "nightly": "night", "before bed": "night"}
_DAYPART_RX = ("(?:" + "|".join(re.escape(k) for k in sorted(_DAYPARTS, key=len, reverse=True)
                                if k != "on") + ")")


def _daypart(m: re.Match[str], p: ParsedLine) -> str | None:
    """A time of day (``mane``, ``at night``, ``each morning``, ``early evening``): one
    administration at that time; several add up (``morning and night``: twice a day), and
    a count given for a time (``1 mane 2 nocte``) is that time's dose."""
    return _add_parts(p, [_DAYPARTS[m.group("part")]], m.group(0))


def _add_parts(p: ParsedLine, parts: list[str], text: str) -> str | None:
    """Times of day (named or clock times) added to the line's: one administration each."""
    if p.frequency is not None and not p.dayparts:
        return f"a second frequency {text!r}"
    new = [x for x in parts if x not in p.dayparts]
    if not new:
        return None
    if p.count is not None and not p.slot_counts:
        p.slot_counts.append(p.count_max if p.count_max is not None else p.count)
    p.dayparts.extend(new)
    n = float(len(p.dayparts))
    p.frequency = Frequency(text=" and ".join(p.dayparts), count_min=n, count_max=n,
                            bedtime=p.dayparts == ["night"])
    return None


def _indication(m: re.Match[str], p: ParsedLine) -> str | None:
    """``for blood pressure``, ``to reduce cholesterol``: what the medicine is for (read by
    :func:`scan_rest`, which stops it at the first word a rule reads)."""
    raise AssertionError("indications are read by scan_rest")  # pragma: no cover


def _dispensing(m: re.Match[str], p: ParsedLine) -> str | None:
    """``dispense weekly``, ``quantity: 500 ml``, ``mitte 28``: a note for the pharmacy, not
    the dose; kept as a note."""
    p.notes.append(m.group(0))
    return None


def _end_boundary(rx: str) -> str:
    """A final ``\\b`` fails after a dot (``b.i.d.``); use 'no word character follows'."""
    return rx[:-2] + r"(?!\w)" if rx.endswith(r")\b") else rx


_N = _NUM
_UNIT_RX = (r"(?:(?:mcg|ug|micrograms?) ?(?:/ ?|per )(?:hr|hour|h)|mg|mgs|mcg|ug|g|gm|gms|grams?|"
            r"milligrams?|micrograms?|iu|i\.u\.|units?|meqs?|milliequivalents?|mls?|"
            r"millilit(?:er|re)s?|%|patch(?:es)?|tabs?|tablets?|caps?|capsules?|softgels?|"
            r"caplets?|puffs?|pufs?|drops?|gtts?|sprays?|injections?)")
_DOSE_UNIT = rf"(?P<u>{_UNIT_RX})"
_COUNT_UNIT = (r"(?P<u>patch(?:es)?|tabs?|tablets?|caps?|capsules?|caplets?|softgels?|puffs?|"
               r"pufs?|drops?|gtts?|sprays?|injections?)")
# Daily caps: "up to 6 doses daily", "max 4 doses/day", "not to exceed 8 tabs", "up to tds".
_CAP_UPTO = r"(?:up ?to(?:(?: a)? max(?:imum)?(?: of)?)?)"
_CAP_MAX = (r"(?:to a max(?:imum)?(?: of)?|max(?:imum)?(?: of)?|max\.|not to exceed|"
            r"do not exceed|don't exceed|no more than|not more than|"
            r"mdd|max(?:imum)? daily dose(?: of)?)")
_CAP_PER = (r"(?:daily|a day|per day|/day|/d|each day|every day|in a day|in one day|"
            r"(?:(?:in|per|in any) |/)24 ?(?:h|hrs?|hours?)(?: period)?)")
_CAP_N = rf"(?P<n>\d+(?:\.\d+)?|{_WN})(?P<range>\s*(?:-|to)\s*(?:\d+(?:\.\d+)?|{_WN}))?"
_CAP_WHAT = rf"(?P<what>doses?|times|x|{_UNIT_RX})"
_CAP_FREQ = "(?:" + "|".join(re.escape(k) for k in sorted(_DAILY_COUNTS, key=len, reverse=True)
                             if _DAILY_COUNTS[k] > 1 or k.startswith("once")) + ")"
_REPEAT_ONCE = r"(?:once|x\s*1|one time|1 time|one more time)"
_RULES: list[tuple[str, _Handler]] = [
    # daily caps before durations: "up to 6 doses daily" is not a course of 6 doses
    # ("up to 2 tablets daily" is a dose, so "up to" caps count doses or times, or nothing)
    (rf"\(?{_CAP_UPTO}\s*{_CAP_N}\s*(?:(?P<what>doses?|times|x)\s*)?(?P<per>{_CAP_PER})\)?"
     r"(?!\w)", _cap),
    (rf"\(?{_CAP_MAX}\s*{_CAP_N}\s*(?:{_CAP_WHAT}\s*)?(?P<per>{_CAP_PER})\)?(?!\w)", _cap),
    (rf"\(?{_CAP_MAX}\s*{_CAP_N}\s*{_CAP_WHAT}\)?(?!\w)", _cap),
    (rf"\(?(?:{_CAP_UPTO}|{_CAP_MAX})\s*(?P<f>{_CAP_FREQ})\)?(?!\w)", _cap),
    # "may repeat in 2 h", "may be repeated after 6 hours", "may repeat x1 after 2 hours"
    (rf"(?:(?:may|can)\s+(?:be\s+)?)?repeat(?:ed)?(?:\s+(?:the\s+)?dose)?"
     rf"(?:\s+(?P<once>{_REPEAT_ONCE}))?(?:\s+(?:in|after)\s+(?P<a>\d+|{_WN})\s*{_HOURS})?"
     rf"(?:\s+(?P<once2>{_REPEAT_ONCE}))?(?!\w)", _repeat),
    # "at onset", "at the onset of migraine": a dose as needed
    (r"(?:at|on|upon)\s+(?:the\s+)?onset(?:\s+of\s+(?:a\s+|the\s+)?(?:migraine|headache|"
     r"symptoms|attack|pain))?\b", _prn),
    # "on days 2-5", "days 2 through 5": a duration; "day 1", "on the first day": once
    (r"(?:on\s+)?days\s*(?P<a>\d+)\s*(?:-|to|through|thru)\s*(?P<b>\d+)\b", _day_span),
    (r"(?:on\s+)?(?:day\s*(?:1|one)|(?:the\s+)?first\s+day)\b(?!\s+of\b)", _day_one),
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
    (r"(?:bd|bds|b\.d\.|bid|b\.i\.d\.|twice daily|twice a day|twice per day|twice each day|"
     r"twice every day|q12h)\b", _fixed(2)),
    (r"(?:tds|t\.d\.s\.|tid|t\.i\.d\.|three times daily|three times a day|"
     r"three times per day)\b", _fixed(3)),
    (r"(?:qds|q\.d\.s\.|qid|q\.i\.d\.|four times daily|four times a day|"
     r"four times per day)\b", _fixed(4)),
    (r"(?:weekly|once weekly|once a week|once per week|every week|qw|qwk|q1w|q week|"
     r"1x weekly|one time weekly)\b", _fixed(1, 7)),
    (r"(?:twice weekly|twice a week|biw|2x weekly)\b", _fixed(2, 7)),
    (r"(?:three times weekly|three times a week|tiw|3x weekly)\b", _fixed(3, 7)),
    (r"(?:monthly|once monthly|once a month|once per month|every month|q month|qmonth|"
     r"q1month)\b", _fixed(1, MONTH_DAYS)),
    (r"(?:yearly|annually|once a year|once yearly|once per year|every year|"
     r"every 12 months|q12 months|q year)\b", _fixed(1, 365)),
    (r"(?:qod|every other day|alternate days|alternative days|on alternate days)\b",
     _fixed(1, 2)),
    (rf"(?:every|q)\s*(?P<a>\d+|{_WN})\s*(?P<u>days?|weeks?|months?|years?)\b", _every_n_weeks),
    # named weekdays and times of day
    (rf"(?:on\s+|every\s+)?(?P<days>mwf|{_DAY_RX}(?:\s*(?:and|&|/|,)?\s*{_DAY_RX})*)\b",
     _weekdays),
    (rf"(?:at\s+)?(?P<t>{_TIME}(?:\s*(?:and|&|/|,)?\s*{_TIME})*)(?!\w)", _times),
    (r"(?:qd|q\.d\.|od|daily|dly|once daily|once a day|once per day|once each day|every day|"
     r"/day|/d|each day|per day|a day|aday|q24h|qam|qpm|q morning|once every day|"
     r"one time daily)\b", _fixed(1)),
    # times of day: "mane", "each morning", "at night", "morning and night", "1 mane 2 nocte"
    (rf"(?:(?:in the|each|every|at|in|early|late|before|after|with|at the)\s+)?"
     rf"(?P<part>{_DAYPART_RX})\b", _daypart),
    (r"(?P<part>on)(?=\s*$|\s+(?:and|&)\s)", _daypart),
    (r"(?:wear\s+)?(?:for\s+)?12 ?h(?:ours?|rs?)?\s+on(?:\s+and|,)?\s+12 ?h(?:ours?|rs?)?\s+off\b",
     _on_off),
    (r"(?:q\.h\.s\.|h\.s\.)(?!\w)", _fixed(1, bedtime=True)),
    (r"(?:once|single dose|one time|x ?1|stat|one dose|single injection)\b", _once),
    # prn
    (r"(?:prn|p\.r\.n\.|as needed|as required|when required|if needed|when needed|"
     r"as necessary|when necessary|if required|if necessary)(?![a-z])(?:\s+for\b)?", _prn),
    # "(1,000 mg total)", "(5 mg)": a dose's total as EHRs print it after a count
    (rf"\(\s*(?P<a>{_N})\s*(?P<u>mg|mcg|ug|g|gm|ml|mls)\s*(?:total)?\s*\)", _stated_total),
    # "one 5% patch"
    (rf"(?P<a>one|two|three|a|an)\s+(?P<s>{_N})\s*%\s+(?P<u>patch(?:es)?)\b", _word_strength),
    # combination strengths ("10/325", "5-325", "5 mg/325 mg", "325/5"): combination products
    # only (a line naming one ingredient keeps "400-800 mg" as a dose range)
    (rf"(?P<a>{_N})\s*(?:mg\s*)?/\s*(?P<b>\d{{3,}}(?:\.\d+)?)(?:\s*mg)?"
     rf"(?:\s*/\s*(?P<c>{_N})(?:\s*mg)?)?(?![\d/])", _combo),
    (rf"(?P<a>\d{{3,}}(?:\.\d+)?)\s*(?:mg\s*)?/\s*(?P<b>{_N})(?:\s*mg)?(?P<c>)(?![\d/])",
     _combo),
    (rf"(?P<a>{_N})\s*-\s*(?P<b>\d{{3,}}(?:\.\d+)?)(?:\s*mg)?(?P<c>)(?![\d-])", _combo),
    # two amounts of two digits or more ("20/12.5", "50/12.5": lisinopril or losartan with
    # HCTZ), never a fraction ("1/2 tab")
    (r"(?<![\d.])(?P<a>\d{2,}(?:\.\d+)?)\s*(?:mg\s*)?/\s*(?P<b>\d{2,}(?:\.\d+)?)(?:\s*mg)?"
     r"(?P<c>)(?![\d/])", _combo),
    # ... or joined by a hyphen ("Zestoretic 20-12.5", "Hyzaar 100-25"): combination products
    # only, and (two small amounts) only first after the name
    (r"(?<![\d.])(?P<a>\d{2,}(?:\.\d+)?)\s*-\s*(?P<b>\d{2,}(?:\.\d+)?)(?:\s*mg)?"
     r"(?P<c>)(?![\d.-])", _combo_first),
    # doses: "2 x 500 mg" (count x strength), "800mg", "400-800 mg", "1 to 2 g", "5%"
    (rf"(?:(?P<mult>\d+)\s*x\s*)?(?P<a>{_N})(?:\s*(?:-|to)\s*(?P<b>{_N}))?\s*{_DOSE_UNIT}"
     r"(?![a-z])", _dose),
    (rf"(?P<a>one|two|three|four|five|six|half|\d+)\s*(?:or|to|-)\s*(?P<b>one|two|three|four|"
     rf"five|six|\d+)\s+{_COUNT_UNIT}\b", _word_range_dose),
    (rf"(?P<a>one|two|three|four|five|six|half|a|an)\s+{_COUNT_UNIT}\b", _word_dose),
    # a count with no unit ("take 1 by mouth", "1-2 four times a day", "one or two", "1/2")
    (r"(?:takes?\s+)?(?P<a>\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|half|1/2|½)"
     r"(?:\s*(?:-|to|or)\s*"
     rf"(?P<b>\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight))?(?=\s|$)"
     rf"(?!\s*{_UNIT_RX}(?![a-z]))"
     r"(?!\s*(?:-|to|or)\s*(?:\d|one|two|three|four))", _bare_count),
    # routes
    (r"(?:by mouth|per os|p\.o\.|iv infusion|intra-articular|intraarticular|to skin|"
     r"po|oral|orally|ivpb|iv|intravenously|intravenous|im|intramuscularly|intramuscular|"
     r"subcutaneously|subcutaneous|subcut|subq|sq|sc|s\.c\.|topically|topical|"
     r"transdermally|transdermal|td|pr|rectally|rectal|intranasal|nasal|ia|epidural|"
     r"inhaled|by inhalation|inhalation|via nebuli[sz]er|nebuli[sz]ed|ophthalmic|"
     r"(?:in|into) (?:the |each |both |right |left )?(?:affected )?eyes?(?:\(s\))?|"
     r"(?:each|both) eyes?|"
     r"(?:in|into) (?:each|one|both|the|either) nostrils?|(?:each|both) nostrils?|per nostril|"
     r"(?:(?:in|into) )?(?:each|both|one) (?:nares|naris|nare)|(?:in|into|per) (?:the )?nares|"
     r"per nare|en|"
     r"ou|"
     r"sublingually|sublingual|sl|under (?:the )?tongue)(?![a-z])(?! disintegrating)", _route),
    # forms and release
    (r"(?:cream|gel|ointment|lotion|patch|patches|tablets?|tabs?|capsules?|caps?|solution|"
     r"liquid|suspension|syrup|injection|inj|autoinjector|auto-injector|statdose|prefilled "
     r"syringe|pen injector|infusion|softgels?|chewables?|powder|spray|odt|elixir|"
     r"orally disintegrating(?: tablets?)?|"
     r"extended[- ]release|immediate[- ]release|ext rel|er|xr|xl|xt|sr|cr|cd|la|ir|otc)\b",
     _form),
    # a dispensing note runs to the end of the line
    (r"(?:dispense|dispensed|quantity|qty|mitte|supply|script)\b.*$", _dispensing),
    # what it is for: "for blood pressure", "to reduce cholesterol" (read by scan_rest)
    (r"(?:for|to (?:treat|prevent|reduce|help|control|protect|relieve|lower|stop|thin|ease))"
     r"(?= [a-z])", _indication),
    # where it goes and how: "to each nostril", "into both eyes", "sparingly"
    (r"(?:(?:to be )?(?:applied|taken|used|inhaled|instilled|sprayed|inserted|given)|"
     r"(?:(?:in|into|to|onto|on|in to|under) )?(?:the |each |both |affected |the affected |"
     r"left |right |each affected )(?:affected )?(?:nostrils?|eyes?|ears?|ear canal|"
     r"areas?|parts?|skin|scalp|mouth|tongue|site|joints?|side)(?:\(s\))?|"
     r"(?:in|into|to|onto|on|in to|under) (?:nostrils?|eyes?|ears?|ear canal|"
     r"areas?|parts?|skin|scalp|mouth|tongue|site|joints?)(?:\(s\))?|"
     r"sparingly|thinly|liberally|as directed|as instructed|as shown|as before|"
     r"swallowed whole|swallow whole|dissolved in water|dissolve in water|in water|"
     r"via (?:a |the )?(?:spacer|aerochamber|volumatic|inhaler|nebuliser|nebulizer)|inhale|"
     r"regularly|immediately|now|spoonfuls?|spoonsful|spoon|5ml spoonfuls?|&)(?!\w)", _ignore),
    # instructions and salt names we understand and that change nothing we check
    (r"(?:take|takes|apply|applied|give|inject|infuse|use|place|insert|chew|swallow|"
     r"with meals|with a meal|with food|after meals|before meals|with water|"
     r"with plain water|with a full glass of water|on an empty stomach|fasting|"
     r"before breakfast|after breakfast|with breakfast|with dinner|with lunch|"
     r"to affected area|to the affected area|thin film|of|and|then|each|per dose|"
     r"dose|sig|rx|upright|chelate|hcl|sodium|sulfate|tromethamine|dr|ec|"
     r"with or after food|after food|before food|scheduled|"
     r"at the fusion site|at surgical site|over 15 minutes|in divided doses|divided)\b",
     _ignore),
]
# Which characters (and pairs of characters) each rule can start with, generated by
# ``python -m medref._sigtable`` (a test checks it is current): the parser tries only the rules
# that can start with the text at hand, and compiles each rule's regex the first time it is
# tried.
_FIRST: tuple[tuple[str | None, tuple[str, ...] | None], ...] = (
    ('(u', ('(u', 'up')),
    ('(dmnt', ('(d', '(m', '(n', '(t', 'do', 'ma', 'md', 'no', 'to')),
    ('(dmnt', ('(d', '(m', '(n', '(t', 'do', 'ma', 'md', 'no', 'to')),
    ('(dmntu', ('(d', '(m', '(n', '(t', '(u', 'do', 'ma', 'md', 'no', 'to', 'up')),
    ('cmr', ('ca', 'ma', 're')),
    ('aou', ('at', 'on', 'up')),
    ('do', ('da', 'on')),
    ('dfot', ('da', 'fi', 'on', 'th')),
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
    ('efmostw', ('ev', 'fr', 'mo', 'mw', 'on', 'sa', 'su', 'th', 'tu', 'we')),
    ('0123456789am', None),
    ('/adeopq',
     ('/d', 'a ', 'ad', 'da', 'dl', 'ea', 'ev', 'od', 'on', 'pe', 'q ', 'q.', 'q2', 'qa', 'qd',
      'qp')),
    ('abehilmnopqtw',
     ('a.', 'af', 'am', 'at', 'be', 'br', 'ea', 'ev', 'hs', 'in', 'la', 'lu', 'ma', 'mi', 'mo',
      'ni', 'no', 'om', 'p.', 'pm', 'qh', 'te', 'wi')),
    ('o', ('on',)),
    ('1fw', ('12', 'fo', 'we')),
    ('hq', ('h.', 'q.')),
    ('osx', ('on', 'si', 'st', 'x ', 'x1')),
    ('aipw', ('as', 'if', 'p.', 'pr', 'wh')),
    ('(', None),
    ('aot', ('a\t', 'a\n', 'a\x0b', 'a\x0c', 'a\r', 'a ', 'an', 'on', 'th', 'tw')),
    ('.0123456789', None),
    ('0123456789', None),
    ('.0123456789', None),
    ('0123456789', None),
    ('0123456789', None),
    ('.0123456789', None),
    ('0123456789fhost', None),
    ('afhost',
     ('a\t', 'a\n', 'a\x0b', 'a\x0c', 'a\r', 'a ', 'an', 'fi', 'fo', 'ha', 'on', 'si', 'th',
      'tw')),
    ('0123456789efhost½', None),
    ('beinoprstuv',
     ('bo', 'by', 'ea', 'en', 'ep', 'ia', 'im', 'in', 'iv', 'na', 'ne', 'on', 'op', 'or', 'ou',
      'p.', 'pe', 'po', 'pr', 're', 's.', 'sc', 'sl', 'sq', 'su', 'td', 'to', 'tr', 'un', 'vi')),
    ('acegilopstx',
     ('au', 'ca', 'cd', 'ch', 'cr', 'el', 'er', 'ex', 'ge', 'im', 'in', 'ir', 'la', 'li', 'lo',
      'od', 'oi', 'or', 'ot', 'pa', 'pe', 'po', 'pr', 'so', 'sp', 'sr', 'st', 'su', 'sy', 'ta',
      'xl', 'xr', 'xt')),
    ('dmqs', ('di', 'mi', 'qt', 'qu', 'sc', 'su')),
    ('ft', ('fo', 'to')),
    ('&5abdegilnorstuv',
     ('&', '5m', 'af', 'ap', 'as', 'bo', 'di', 'ea', 'gi', 'im', 'in', 'le', 'li', 'no', 'on',
      're', 'ri', 'sp', 'sw', 'ta', 'th', 'to', 'un', 'us', 'vi')),
    ('abcdefghioprstuw',
     ('af', 'an', 'ap', 'at', 'be', 'ch', 'di', 'do', 'dr', 'ea', 'ec', 'fa', 'gi', 'hc', 'in',
      'of', 'on', 'ov', 'pe', 'pl', 'rx', 'sc', 'si', 'so', 'su', 'sw', 'ta', 'th', 'to', 'tr',
      'up', 'us', 'wi')),
)
_PATTERNS = tuple(_end_boundary(rx) for rx, _ in _RULES)
_HANDLERS = tuple(h for _, h in _RULES)
_ANYWHERE = tuple(i for i, (f, _) in enumerate(_FIRST) if f is None)


_CHARS = frozenset(c for f, _ in _FIRST if f for c in f)
_PAIRS = frozenset(p for _, pairs in _FIRST for p in pairs or () if len(p) == 2)
_DISPATCH: dict[str, tuple[int, ...]] = {}


def _rules_for(two: str) -> tuple[int, ...]:
    """Rules to try where the text goes on with ``two`` (its next two characters): each rule
    whose listed pairs include them, whose one-character match is the first, or that is
    dispatched on its first character only. Worked out the first time a pair is seen."""
    hit = _DISPATCH.get(two)
    if hit is not None:
        return hit
    c = two[:1]
    if c in _CHARS:
        rules = {i for i, (first, pairs) in enumerate(_FIRST)
                 if first is None or (c in first and (pairs is None or c in pairs))}
    else:
        rules = set(_ANYWHERE)
    if two in _PAIRS:
        rules |= {i for i, (_, pairs) in enumerate(_FIRST) if pairs and two in pairs}
    hit = _DISPATCH[two] = tuple(sorted(rules))
    return hit


_DOSE_RULE = _HANDLERS.index(_dose)
"""The rule of a dose with its unit (``400-800 mg``)."""
_COMBO_RULES = frozenset(i for i, h in enumerate(_HANDLERS)
                         if h is _combo or h is _combo_first)


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


def _rule_at(rest: str, pos: int, combo_ok: bool = False
             ) -> tuple[re.Match[str], _Handler] | None:
    """The first rule that reads something at ``pos``, with its match (the combination
    strength rules only for a combination product)."""
    rules = _DISPATCH.get(rest[pos:pos + 2]) or _rules_for(rest[pos:pos + 2])
    for i in rules:
        if i in _COMBO_RULES and not combo_ok:
            continue
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


_ECHO = re.compile(r"\b(\d+)\s*\((" + "|".join(_NUM_WORDS) + r")\)")


def _unecho(m: re.Match[str]) -> str:
    """``4 (four)`` is ``4``; ``4 (six)`` is left as written (and shown as not understood)."""
    return m.group(1) if _NUM_WORDS[m.group(2)] == int(m.group(1)) else m.group(0)


def scan_rest(rest: str, p: ParsedLine,
              resolve: Callable[[str], str | None] | None = None) -> None:
    """Like :func:`parse_rest` without :func:`finish`: for a line read in several fragments
    (a structured item's fields), call this on each fragment, then :func:`finish` once."""
    if _NEGATIVE.search(rest):
        p.problems.append("negative dose")
        rest = _NEGATIVE.sub("", rest)
    if "(" in rest:  # "every 4 (four) hours": a number spelt out again, as EHRs print it
        rest = _ECHO.sub(_unecho, rest)
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
        hit = _rule_at(rest, pos, p.combo_ok)
        w = _WORD.match(rest, pos)
        word = w.group(0) if w else rest[pos]
        if hit is not None and not (reason_ended and word in _REASON_ENDS
                                    and hit[0].end() == pos + len(word)):
            m, handler = hit
            if handler is _indication:
                end = _indication_end(rest, m.end(), p.combo_ok)
                if end > m.end():
                    words = rest[m.start():end].strip()
                    p.indication = f"{p.indication}; {words}" if p.indication else words
                    pos = end
                    continue
                hit = None
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
        # glued words ("1bd", "2puffsqds", "10mlqid"): read again with spaces between
        unglued = _unglue(word)
        if unglued is not None:
            rest = rest[:pos] + unglued + rest[pos + len(word):]
            n = len(rest)
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


def _indication_end(rest: str, pos: int, combo_ok: bool) -> int:
    """Where an indication starting at ``pos`` ends: before the first word a rule reads (a
    dose, a frequency, a route ...) or that holds a digit, at most 8 words on."""
    end, words = pos, 0
    n = len(rest)
    while end < n and words < 8:
        while end < n and rest[end] == " ":
            end += 1
        if end >= n:
            break
        w = _WORD.match(rest, end)
        word = w.group(0) if w else rest[end]
        if any(c.isdigit() for c in word):
            break
        hit = _rule_at(rest, end, combo_ok)
        if hit is not None and hit[1] not in (_ignore, _indication):
            break
        end += len(word)
        words += 1
    return end


_GLUE_WORDS = frozenset({
    "bd", "bds", "tds", "qds", "od", "om", "on", "nocte", "noct", "mane", "prn", "daily", "dly",
    "qid", "tid", "bid", "hrly", "hourly", "tab", "tabs", "tablet", "tablets", "cap", "caps",
    "capsule", "capsules", "puff", "puffs", "drop", "drops", "spray", "sprays", "ml", "mls",
    "mg", "mcg", "sachet", "sachets", "take", "half", "at", "night", "morning", "am", "pm",
    "or", "and", "aday", "x", "times", "stat", "nightly", "weekly", "one", "two", "use",
    "puf", "pufs", "gtt", "gtts",
})
_FREQ_GLUE = frozenset({"bd", "bds", "tds", "qds", "od", "qid", "tid", "bid", "daily", "prn",
                        "nocte", "mane", "om", "on"})
_GLUE_NUM = re.compile(r"\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?")
_MAX_GLUE = 24


def _unglue(word: str) -> str | None:
    """``1bd`` -> ``1 bd``, ``2puffsqds`` -> ``2 puffs qds``, ``take2`` -> ``take 2``: a word
    made only of numbers and sig words, with spaces put back; None when it is not one (a
    word of letters only must split into at least two sig words of two letters or more)."""
    if len(word) > _MAX_GLUE or not word.isascii():
        return None
    if "/" in word:  # "2tab/tds", "1-2tds/qds", "/qds"
        pieces = word.split("/")
        if not any(c.isalpha() for c in word) or word.startswith("1/2"):
            return None  # "3/7", "1/2": numbers, not glued words
        out = [_unglue(x) or x for x in pieces if x]
        if len(out) < 1 or any(" " not in o and o not in _GLUE_WORDS
                               and not _GLUE_NUM.fullmatch(o) for o in out):
            return None
        joined = out[0]
        for prev, nxt in zip(pieces, out[1:], strict=False):
            last = (_unglue(prev) or prev).split(" ")[-1] if prev else ""
            joined += (" or " if last in _FREQ_GLUE and nxt.split(" ")[0] in _FREQ_GLUE
                       else " ") + nxt
        if not _FREQ_GLUE.intersection(joined.split(" ")):
            return None  # "mg/ml" and "/ml" stay as written (and are reported)
        return joined if joined != word else None
    stripped = word.rstrip(".,;:])")
    if stripped != word and stripped:
        return _unglue(stripped) or (stripped if stripped in _GLUE_WORDS else None)
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        sofar = best[i]
        if sofar is None:
            continue
        m = _GLUE_NUM.match(word, i)
        if m is not None and (not sofar or not sofar[-1][0].isdigit()):
            j = m.end()
            if best[j] is None:
                best[j] = [*sofar, m.group(0)]
        for j in range(n, i, -1):
            if best[j] is None and word[i:j] in _GLUE_WORDS:
                best[j] = [*sofar, word[i:j]]
    parts = best[n]
    if parts is None or len(parts) < 2:
        return None
    if not any(c.isdigit() for c in word) and any(len(x) < 2 for x in parts):
        return None
    return " ".join(parts)


def finish(p: ParsedLine) -> None:
    """Settle what only the whole line decides (a strength alone is the dose: ``5% patch`` is
    one patch, ``0.075% cream`` is 0.075 %)."""
    _finish(p)


def _finish(p: ParsedLine) -> None:
    if p.sides > 1 and p.dose is not None:
        k, p.sides = p.sides, 1  # the dose as written is per nostril
        p.dose *= k
        p.dose_max = p.dose_max * k if p.dose_max is not None else None
        p.count = p.count * k if p.count is not None else None
        p.count_max = p.count_max * k if p.count_max is not None else None
    if p.stated_total is not None:
        _settle_total(p, *p.stated_total)
    if p.dayparts and len(p.slot_counts) == len(p.dayparts) > 1:
        p.slot_units = sum(p.slot_counts)
    if p.unit is None and p.strength is not None:
        if p.form == "patch":
            p.dose, p.unit = 1.0, "patch"  # "5% patch": one patch
        else:
            p.dose, p.unit = p.strength, "%"  # "0.075% cream": the strength is the dose


def _settle_total(p: ParsedLine, amount: float, unit: str, text: str) -> None:
    """A stated total: the dose when the line has only a count of units (``take 2 tablets
    (1,000 mg total)`` of a drug named without a strength); agreeing with the dose read, it
    is set aside; otherwise (or for a combination product, whose strength says it) it is
    shown as not understood, never used over what the line says."""
    if p.combo_ok:
        p.notes.append(text)
        return
    if p.unit in COUNT_UNITS and p.per_unit is None and p.dose is not None:
        p.count, p.count_max, p.count_unit = p.dose, p.dose_max, p.unit
        p.dose, p.dose_max, p.unit = amount, None, unit
        return
    if p.unit == unit and p.dose is not None and abs(p.dose - amount) <= 1e-9 * amount:
        return  # "500 mg tablet: take 2 tablets (1,000 mg total)": the same dose
    p.unparsed.append(text)


_NAME_END = re.compile(r"\d|\.\d")
_RELEASE_SUFFIX = re.compile(r"(?<=[a-z])-(xl|xr|er|sr|cr|la)(?= |$)")
_UNIT_WORD = re.compile(r"(?:mg|mcg|ug|g|gm|grams?|iu|units?|ml|mls|%)(?![a-z])")
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
            if (k > 1 and words[k - 1][:1].isdigit() and k < len(words)
                    and _UNIT_WORD.match(words[k]) and resolve(" ".join(words[:k - 1]))):
                continue  # "Tylenol 4 g": the 4 is the dose, not "Tylenol 4" (#4)
            return cand, pid, " ".join(words[k:])
    # "Toprol-XL 50 mg": a release suffix joined by a hyphen to a known name reads as that
    # name and the suffix (a formulation word); names on file with one (Ultram-ER) matched above
    spaced = _RELEASE_SUFFIX.sub(r" \1", norm)
    if spaced != norm:
        got = split_name(spaced, resolve, max_words)
        if got[1] is not None:
            return got
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
    rules = _rules_for(word[:2])
    return any(_rx(i).fullmatch(word) for i in rules if i not in _COMBO_RULES)


def parse_line(text: str, resolve: Callable[[str], str | None],
               combos: Container[str] | None = None) -> ParsedLine:
    """Read one sig line.

    Args:
        text: the line as typed (``"Tylenol 1 g q6h prn pain"``).
        resolve: maps a normalized name to a canonical id, or None when unknown.
        combos: the ids of combination products (their strengths read as ``10/325``); a
            mapping of each to its strengths (:attr:`ParsedLine.combo_strengths`) also lets
            an ascending hyphenated pair that is none of them read as a dose range.

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
    if combos is not None and pid is not None:
        p.combo_ok = pid in combos
        if p.combo_ok and isinstance(combos, Mapping):
            p.combo_strengths = combos[pid]
    steps = _STEP_SPLIT.split(rest) if " then " in f" {rest} " else [rest]
    if len(steps) > 1 and all(_DIGIT.search(x) for x in steps):
        _read_steps(steps, p, resolve)
    else:
        parse_rest(rest, p, resolve)
    return p


_STEP_SPLIT = re.compile(r"\s*\bthen\b\s*")
_DIGIT = re.compile(r"\d")


def _read_steps(steps: list[str], p: ParsedLine,
                resolve: Callable[[str], str | None] | None) -> None:
    """A multi-step sig (``40 mg daily x 3 days then 20 mg daily x 3 days``): each step is
    read on its own; the line takes the step with the largest amount a day (the highest day
    is what the limits see), and the durations add up."""
    parts = []
    for text in steps:
        q = ParsedLine(text=text, name=p.name, product=p.product, combo_ok=p.combo_ok,
                       combo_strengths=p.combo_strengths)
        parse_rest(text, q, resolve)
        parts.append(q)
    _inherit_strength(parts)

    def day(q: ParsedLine) -> float:
        per = q.frequency.per_day_max if q.frequency is not None else 1
        return (q.dose_worst or 0.0) * per

    units = {q.unit for q in parts if q.unit is not None}
    worst = max(parts, key=day) if len(units) <= 1 else parts[0]
    for f in ("dose", "dose_max", "unit", "frequency", "prn", "prn_reason", "counted", "count",
              "count_max", "count_unit", "per_unit", "per_unit_max", "per_unit_unit", "combo",
              "strength", "strength_unit", "form"):
        setattr(p, f, getattr(worst, f))
    for q in parts:
        p.route = p.route or q.route
        p.formulation = p.formulation or q.formulation
        p.unparsed.extend(q.unparsed)
        p.problems.extend(q.problems)
        if q.cap_text is not None and p.cap_text is None:
            for f in ("cap_units", "cap_unit", "cap_amount", "cap_amount_unit", "cap_text",
                      "cap_per_day"):
                setattr(p, f, getattr(q, f))
    days = [q.duration_days for q in parts]
    if all(d is not None for d in days):
        p.duration_days = sum(d or 0.0 for d in days)
    if len(units) > 1:
        p.problems.append("steps dosed in units that cannot be compared")
    p.steps = len(parts)
    p.step_texts = list(steps)


def _inherit_strength(parts: list[ParsedLine]) -> None:
    """Steps counted in units of use after a step that says their strength (``10 mg tablets:
    take 4 tablets daily x 3 days then 2 tablets daily x 3 days``; ``250 mg: 2 tablets on day
    1 then 1 tablet daily``): each such step is that many times the strength. Only one
    strength, written per unit of the same kind (or a bare count), is carried; anything else
    leaves the steps as they are (their units then cannot be compared: shown, not guessed)."""
    strengths = {(q.per_unit, q.per_unit_unit, q.count_unit) for q in parts
                 if q.counted and q.per_unit is not None and q.per_unit_max is None}
    if len(strengths) != 1:
        return
    per, per_unit, kind = next(iter(strengths))
    if per is None or per_unit is None:
        return
    seen = False  # only the steps after the one that states the strength
    for q in parts:
        if q.counted and q.per_unit == per:
            seen = True
            continue
        if (seen and q.unit in COUNT_UNITS and not q.counted and q.per_unit is None
                and q.dose is not None and q.count_unit in (kind, "each")):
            q.counted = True
            q.per_unit, q.per_unit_unit = per, per_unit
            q.count, q.count_max, q.count_unit = q.dose, q.dose_max, kind
            q.dose = per * q.dose
            q.dose_max = per * q.dose_max if q.dose_max is not None else None
            q.unit = per_unit


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
