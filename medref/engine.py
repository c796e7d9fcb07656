"""The check engine: read each line, check each dose, then screen the whole regimen.

``check(lines)`` is the library entry point behind ``medref check``. Each rule is a function
that returns findings and never prints; its code is listed in :data:`medref.codes.CODES`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from medref.errors import InputError, SigError
from medref.reference import Reference, load_reference
from medref.result import CheckResult, Context, Finding, ItemResult, Summary
from medref.sig import Frequency, ParsedLine, normalize, parse_line
from medref.units import comparable, convert
from medref.vocab import CATEGORIES, SEVERITIES, SEVERITY_RANK

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
"""Days in each limit period (month = 30, year = 365; worst-case counts use ceilings)."""

Item = str | Mapping[str, Any]
"""An input item: a sig line, or a structured item (name, dose, unit, frequency, ...)."""


def fmt(x: float) -> str:
    """Format an amount for a message: ``4,600``, ``0.075``, ``1.5``."""
    if not math.isfinite(x):
        return str(x)
    if x == int(x):
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.1f}".rstrip("0").rstrip(".")
    return f"{x:.3f}".rstrip("0").rstrip(".")


def _raise_sev(sev: str, steps: int = 1) -> str:
    return SEVERITIES[min(2, SEVERITY_RANK[sev] + steps)]


@dataclass(slots=True)
class _Line:
    """Working state for one input line."""

    index: int
    text: str
    parsed: ParsedLine | None = None
    entry: dict[str, Any] | None = None
    status: str = "checked"
    unit: str | None = None  # the entry's canonical unit the line was converted to
    dose_lo: float | None = None
    dose_hi: float | None = None
    freq: Frequency | None = None
    route: str | None = None
    daily: float | None = None
    mme: float | None = None
    daily_max: float | None = None
    error: SigError | None = None  # why the line could not be read

    def period_total(self, days: float) -> float | None:
        """Worst-case amount within a window of ``days`` (None when not computable)."""
        if self.dose_hi is None or self.freq is None:
            return None
        return self.dose_hi * self.freq.max_in(days)


# -- findings as interned templates ------------------------------------------------------

TALLY_CATEGORIES = sorted(CATEGORIES)
"""Category order of packed counts (sorted, as ``by_category``)."""
TALLY_FIELD_BITS = 32
_FIELD = TALLY_FIELD_BITS
_MASK = (1 << _FIELD) - 1
_NCAT = len(TALLY_CATEGORIES)


def _class_bits(severity: str, category: str) -> int:
    """A finding's contribution to packed counts: one 32-bit field per category, then one per
    severity (sums of these count findings by category and severity at once)."""
    return (1 << (_FIELD * TALLY_CATEGORIES.index(category))
            | 1 << (_FIELD * (_NCAT + SEVERITIES.index(severity))))


def unpack_counts(packed: int) -> tuple[list[int], list[int]]:
    """Counts by category (in ``TALLY_CATEGORIES`` order) and by severity from a packed sum."""
    counts = [(packed >> (_FIELD * i)) & _MASK for i in range(_NCAT + len(SEVERITIES))]
    return counts[:_NCAT], counts[_NCAT:]



class _Tmpl:
    """A finding without its line indexes, interned: the same finding recurs across regimens.

    ``key`` orders findings (most severe first, then code, items; then lines and message, as
    :meth:`Finding.sort_key`); ``parts`` (see :meth:`json_parts`) is its compact UTF-8 JSON
    before and after the numbers of its ``lines`` list, built once.
    """

    __slots__ = (
        "category",
        "cbit",
        "code",
        "items",
        "key",
        "message",
        "parts",
        "rank",
        "rule",
        "severity",
        "source",
    )

    def __init__(self, code: str, category: str, severity: str, items: tuple[str, ...],
                 message: str, source: str | None, rule: str | None) -> None:
        self.code, self.category, self.severity = code, category, severity
        self.items, self.message, self.source, self.rule = items, message, source, rule
        self.rank = SEVERITY_RANK[severity]
        self.key = (-self.rank, code, items)
        self.cbit = _class_bits(severity, category)  # packed counts (batch tallies)
        self.parts: tuple[bytes, bytes] | None = None

    def __lt__(self, other: _Tmpl) -> bool:
        """Ties in (key, lines) are broken by message (as :meth:`Finding.sort_key`)."""
        return self.message < other.message

    def finding(self, lines: tuple[int, ...]) -> Finding:
        """The finding at these line indexes."""
        return Finding(self.code, self.category, self.severity, self.items, lines, self.message,
                       self.source, self.rule)

    def json_parts(self) -> tuple[bytes, bytes]:
        """UTF-8 JSON of the finding before and after the numbers of its ``lines`` list."""
        if self.parts is None:
            text = json.dumps(self.finding(()).to_dict(), ensure_ascii=False,
                              separators=(",", ":"))
            pre, _, post = text.partition('"lines":[]')
            self.parts = ((pre + '"lines":[').encode(), ("]" + post).encode())
        return self.parts


_TMPLS: dict[tuple[Any, ...], _Tmpl] = {}


def _tmpl(code: str, category: str, severity: str, items: tuple[str, ...], message: str,
          source: str | None = None, rule: str | None = None) -> _Tmpl:
    key = (code, category, severity, items, message, source, rule)
    t = _TMPLS.get(key)
    if t is None:
        if len(_TMPLS) >= _CACHE_MAX:
            _TMPLS.clear()
        t = _TMPLS[key] = _Tmpl(code, category, severity, items, message, source, rule)
    return t


Placed = tuple[tuple[int, str, tuple[str, ...]], tuple[int, ...], _Tmpl]
"""A finding template at its (sorted) line indexes, led by its sort key: a list of these
sorts as :meth:`Finding.sort_key` orders findings."""


def _place(t: _Tmpl, lines: tuple[int, ...]) -> Placed:
    return (t.key, lines, t)
Need = tuple[str, str, tuple[int, ...]]
"""A context value a rule needed but was not given: (what, purpose, line indexes)."""


@dataclass(slots=True)
class _Run:
    """State of one check run (one line, one product's lines, or a regimen)."""

    ref: Reference
    ctx: Context
    lines: list[_Line]
    findings: list[Placed] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)

    def add(self, code: str, category: str, severity: str, items: Iterable[str],
            lines: Iterable[int], message: str, source: str | None = None,
            rule: str | None = None) -> None:
        self.findings.append(_place(_tmpl(code, category, severity, tuple(sorted(set(items))),
                                          message, source, rule), tuple(sorted(set(lines)))))

    def need(self, what: str, purpose: str, lines: Iterable[int]) -> None:
        """Record that a rule needed a context value that was not given."""
        self.needs.append((what, purpose, tuple(lines)))


# -- input --------------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """Replace lone UTF-16 surrogates (which cannot be written as UTF-8) with U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def structured_to_line(item: Mapping[str, Any], where: str = "", line: int | None = None
                       ) -> str:
    """Turn a structured item into a sig line, validating each field.

    Fields: ``name`` (required), ``dose``, ``dose_max``, ``unit``, ``frequency``, ``route``,
    ``prn`` (bool or yes/no), ``prn_reason``, ``duration`` (days as a number, or text such as
    ``"5 days"``).

    Raises:
        InputError: naming the field that is missing or of the wrong type.
    """
    allowed = {"name", "dose", "dose_max", "unit", "frequency", "route", "prn", "prn_reason",
               "duration", "strength", "form", "sig"}
    for key in item:
        if key not in allowed:
            raise InputError(f"unknown field (expected {', '.join(sorted(allowed))})",
                             source=where, line=line, field=str(key))
    if "sig" in item and item["sig"] is not None:
        if not isinstance(item["sig"], str):
            raise InputError("must be text (a sig line)", source=where, line=line, field="sig")
        return clean_text(item["sig"])
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError("a name (text) is required", source=where, line=line, field="name")
    parts = [name.strip()]
    for key in ("strength",):
        if item.get(key) not in (None, ""):
            parts.append(_text_field(item, key, where, line))
    if item.get("form") not in (None, ""):
        parts.append(_text_field(item, "form", where, line))
    dose = item.get("dose")
    if dose not in (None, ""):
        d = _num_field(item, "dose", where, line)
        unit = item.get("unit")
        if not isinstance(unit, str) or not unit.strip():
            raise InputError("a unit is required with a dose", source=where, line=line,
                             field="unit")
        dm = item.get("dose_max")
        if dm not in (None, ""):
            parts.append(f"{_exact(d)}-{_exact(_num_field(item, 'dose_max', where, line))}")
        else:
            parts.append(_exact(d))
        parts.append(unit.strip())
    for key in ("route", "frequency"):
        if item.get(key) not in (None, ""):
            parts.append(_text_field(item, key, where, line))
    prn = item.get("prn")
    if isinstance(prn, str):
        low = prn.strip().lower()
        if low not in ("", "yes", "no", "true", "false", "y", "n", "1", "0", "prn"):
            raise InputError("prn must be yes/no or true/false", source=where, line=line,
                             field="prn")
        prn = low in ("yes", "true", "y", "1", "prn")
    elif prn is not None and not isinstance(prn, bool):
        raise InputError("prn must be true or false", source=where, line=line, field="prn")
    if prn:
        parts.append("prn")
        if item.get("prn_reason") not in (None, ""):
            parts.append(_text_field(item, "prn_reason", where, line))
    dur = item.get("duration")
    if dur not in (None, ""):
        if isinstance(dur, bool) or not isinstance(dur, int | float | str):
            raise InputError("duration must be a number of days or text such as '5 days'",
                             source=where, line=line, field="duration")
        if isinstance(dur, str):
            text = dur.strip()
            try:
                days = float(text)
            except ValueError:
                parts.append(text if text.lower().startswith(("x", "for")) else f"for {text}")
            else:
                parts.append(f"for {_exact(days)} days")
        else:
            if not math.isfinite(dur) or dur <= 0:
                raise InputError("duration must be a positive number of days", source=where,
                                 line=line, field="duration")
            parts.append(f"for {_exact(float(dur))} days")
    return " ".join(parts)


def _exact(x: float) -> str:
    """A number as sig text without rounding (a structured dose of 0.0204 mg stays 0.0204)."""
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    text = repr(float(x))
    if "e" in text:  # 1e-06: the same shortest digits, written out positionally
        from decimal import Decimal
        text = format(Decimal(text), "f")
    return text


def _num_field(item: Mapping[str, Any], key: str, where: str, line: int | None) -> float:
    v = item.get(key)
    if isinstance(v, bool):
        raise InputError("must be a number", source=where, line=line, field=key)
    if isinstance(v, str):
        text = v
        try:
            v = float(text.replace(",", "").strip())
        except ValueError:
            raise InputError(f"not a number: {text[:40]!r}", source=where, line=line,
                             field=key) from None
    if isinstance(v, int) and abs(v) > 10**15:
        raise InputError("implausibly large", source=where, line=line, field=key)
    if not isinstance(v, int | float) or not math.isfinite(v):
        raise InputError("must be a finite number", source=where, line=line, field=key)
    if v <= 0:
        raise InputError("must be above 0", source=where, line=line, field=key)
    if v > 1e7:
        raise InputError("implausibly large", source=where, line=line, field=key)
    return float(v)


def _text_field(item: Mapping[str, Any], key: str, where: str, line: int | None) -> str:
    v = item.get(key)
    if isinstance(v, int | float) and not isinstance(v, bool):
        if not math.isfinite(v):
            raise InputError("must be a finite number or text", source=where, line=line,
                             field=key)
        return fmt(float(v))
    if not isinstance(v, str):
        raise InputError("must be text", source=where, line=line, field=key)
    if len(v) > 200:
        raise InputError("longer than 200 characters", source=where, line=line, field=key)
    return v.strip()


# -- the check ----------------------------------------------------------------------------

def check(items: Iterable[Item], context: Context | None = None, *,
          reference: Reference | None = None, source: str = "",
          line_numbers: list[int] | None = None) -> CheckResult:
    """Check a regimen: every dose and limit, then the regimen-wide rules.

    Args:
        items: sig lines (``"ibuprofen 800 mg po tid"``) or structured items
            (``{"name": "ibuprofen", "dose": 800, "unit": "mg", "frequency": "tid"}``).
        context: patient context (age, CrCl, hepatic impairment, weeks since surgery).
        reference: the reference to check against; default the bundled data.
        source: where the items came from (a file name), used in error messages.
        line_numbers: the file line of each item, used in error messages.

    Returns:
        A :class:`CheckResult`: one item per input in input order, and the findings sorted
        most severe first.

    Raises:
        InputError: a structured item has a missing or wrongly typed field.
    """
    ref = reference if reference is not None else load_reference()
    ctx = context if context is not None else Context()
    texts = texts_of(items, source, line_numbers)
    return to_result(ref, ctx, assess(ref, ctx, texts))


def texts_of(items: Iterable[Item], source: str = "", line_numbers: list[int] | None = None
             ) -> list[str]:
    """The sig line of each item (structured items converted and validated).

    Raises:
        InputError: a structured item has a missing or wrongly typed field.
    """
    if isinstance(items, str | bytes | Mapping):
        raise TypeError("items must be a list of sig lines or structured items, not a single "
                        f"{type(items).__name__} (wrap one line in a list)")
    texts = []
    for i, it in enumerate(items):
        if isinstance(it, str):
            texts.append(clean_text(it))
        elif isinstance(it, Mapping):
            if line_numbers is not None and i < len(line_numbers):
                texts.append(structured_to_line(it, source, line_numbers[i]))
                continue
            try:
                texts.append(structured_to_line(it, source, None))
            except InputError as exc:
                raise InputError(f"item {i + 1}: {exc.reason}", source=source,
                                 field=exc.field) from None
        else:
            raise InputError(f"item {i + 1} must be a string or a mapping, not "
                             f"{type(it).__name__}", source=source, line=i + 1)
    return texts


def _read_line(ref: Reference, index: int, text: str) -> _Line:
    ln = _Line(index, text)
    try:
        ln.parsed = parse_line(text, ref.resolve)
    except SigError as exc:
        ln.status = "unparseable"
        ln.error = exc
        return ln
    p = ln.parsed
    if p.product is not None:
        ln.entry = ref.entries[p.product]
    return ln


def _labeled(obj: Mapping[str, Any], what: str) -> str:
    """"labeled maximum" for a verified limit; an unverified one is not called labeled (its
    source text says it is not verified)."""
    return f"labeled {what}" if obj.get("verified", True) else what


def _src(run: _Run, obj: Mapping[str, Any]) -> str:
    return run.ref.source_label(obj.get("sources", ()), bool(obj.get("verified", True)))


def _check_line(run: _Run, ln: _Line) -> None:
    p, e = ln.parsed, ln.entry
    if p is None:
        why = f"{ln.error}" if ln.error is not None else "not understood"
        part = f" ({ln.error.part!r})" if ln.error is not None and ln.error.part else ""
        run.add("MR001", "unparseable", "warning", (), (ln.index,),
                f"the line could not be read: {why}{part}; nothing on it was checked")
        return
    if e is None:
        ln.status = "unknown"
        sugg = run.ref.suggest(p.name)
        hint = f"; did you mean {', '.join(sugg)}?" if sugg else ""
        run.add("MR002", "unknown-item", "warning", (), (ln.index,),
                f"{p.name!r} is not a drug, supplement or therapy medref knows{hint}; "
                "nothing on this line was checked")
        return
    name = e["name"]
    if p.problems:
        ln.status = "unparseable"
        run.add("MR001", "unparseable", "warning", (e["id"],), (ln.index,),
                f"{name}: {'; '.join(p.problems)}; the line was not checked")
        return
    if p.unparsed:
        ln.status = "unverifiable"  # checked, but not fully: part of the line was not read
        run.add("MR007", "unparseable", "warning", (e["id"],), (ln.index,),
                f"{name}: {' '.join(p.unparsed)!r} was not understood; the rest of the line "
                "was checked without it")
    ln.route = p.route or e.get("default_route")
    ln.freq = p.frequency
    if not e.get("checkable", True) or e["kind"] == "watch":
        ln.status = "unverifiable"
        what = ("recognised for screening only; no dosing on file" if e["kind"] == "watch"
                else "no dose to check on file (" + (e.get("regulatory") or "not a dosed drug")
                + ")")
        run.add("MR004", "unverifiable", "warning", (e["id"],), (ln.index,),
                f"{name}: no limit on file: {what}")
        return
    if p.dose is None or p.unit is None:
        ln.status = "unverifiable"
        run.add("MR003", "unverifiable", "warning", (e["id"],), (ln.index,),
                f"{name}: no dose on the line, so no dose or daily limit was checked")
        return
    typical = e.get("typical")
    target = typical["unit"] if typical else _first_unit(e)
    iu = (e.get("iu_per_mcg") or {}).get("value")
    if target is None or not comparable(p.unit, target, iu):
        ln.status = "unverifiable"
        why = ("a count of tablets or capsules without a strength" if p.unit in
               ("tablet", "capsule") else f"{p.unit!r} cannot be compared with {target!r}")
        run.add("MR005", "unverifiable", "warning", (e["id"],), (ln.index,),
                f"{name}: dose {fmt(p.dose)} {p.unit} not checked: {why}")
        return
    ln.unit = target
    ln.dose_lo = convert(p.dose, p.unit, target, iu)
    ln.dose_hi = convert(p.dose_worst or p.dose, p.unit, target, iu)
    if ln.freq is None:
        ln.status = "unverifiable"
        run.add("MR006", "unverifiable", "warning", (e["id"],), (ln.index,),
                f"{name}: no frequency on the line, so the worst-case daily total was not "
                "checked (the single dose was)")
    else:
        ln.daily = ln.dose_hi * ln.freq.max_in(1)
    _check_single(run, ln, e)
    _check_typical(run, ln, e)


def _first_unit(e: Mapping[str, Any]) -> str | None:
    for lim in e.get("limits", ()):
        if lim.get("unit"):
            return str(lim["unit"])
    return None


def _route_ok(lim: Mapping[str, Any], route: str | None) -> bool:
    routes = lim.get("routes")
    return not routes or (route is not None and route in routes)


def context_outcomes(when: Mapping[str, Any], ctx: Context) -> list[tuple[str, bool | None]]:
    """How a patient context meets each context field of a limit's ``when`` condition, in a
    fixed order: ``(what, met)`` with ``met`` None when the value it needs is not given.

    An empty list means the condition reads no patient context (it is qualified by an
    indication, formulation or first day instead, or there is none).
    """
    out: list[tuple[str, bool | None]] = []
    lo, hi = when.get("min_age"), when.get("max_age")
    if lo is not None or hi is not None:
        out.append(("age", None if ctx.age is None else
                    (lo is None or ctx.age >= lo) and (hi is None or ctx.age <= hi)))
    if when.get("crcl_below") is not None:
        out.append(("crcl", None if ctx.crcl is None else ctx.crcl < when["crcl_below"]))
    if when.get("hepatic_impairment") is not None:
        out.append(("hepatic-impairment", None if ctx.hepatic_impairment is None else
                    ctx.hepatic_impairment == when["hepatic_impairment"]))
    return out


def _applies(run: _Run, lim: Mapping[str, Any], ids: Iterable[str], lines: Iterable[int],
             purpose: str) -> str | None:
    """How a limit applies here: 'default', 'context', 'qualified', or None (not applicable;
    a context value it needs that is not given is recorded)."""
    when = lim.get("when")
    if not when:
        return "default"
    outcomes = context_outcomes(when, run.ctx)
    if not outcomes:
        return "qualified"
    lines = tuple(lines)
    for what, met in outcomes:
        if met is None:
            run.need(what, purpose, lines)
    return "context" if all(met for _, met in outcomes) else None


def _formulation_matches(lim: Mapping[str, Any], line: _Line) -> bool:
    """A formulation-qualified limit (ER, OTC) applies only to a line naming that formulation."""
    text = str((lim.get("when") or {}).get("formulation") or "")
    if not text:
        return True
    stated = line.parsed.formulation if line.parsed is not None else None
    if stated is None:
        return False
    low = text.lower()
    if stated == "ER":
        return "extended" in low or "er" in low.replace("(", " ").split()
    return stated.lower() in low.split() or stated.lower() in low


def _when_text(when: Mapping[str, Any] | None) -> str:
    if not when:
        return ""
    parts = []
    if when.get("min_age") is not None and when.get("max_age") is not None:
        parts.append(f"age {when['min_age']}-{when['max_age']}")
    elif when.get("min_age") is not None:
        parts.append(f"age {when['min_age']} and over")
    elif when.get("max_age") is not None:
        parts.append(f"age {when['max_age']} and under")
    if when.get("crcl_below") is not None:
        parts.append(f"CrCl below {fmt(when['crcl_below'])} mL/min")
    if when.get("hepatic_impairment"):
        parts.append("hepatic impairment")
    for k in ("indication", "formulation"):
        if when.get(k):
            parts.append(str(when[k]))
    if when.get("first_day"):
        parts.append("first day")
    return ", ".join(parts)


def _check_single(run: _Run, ln: _Line, e: Mapping[str, Any]) -> None:
    iu = (e.get("iu_per_mcg") or {}).get("value")
    name = e["name"]
    for lim in e.get("limits", ()):
        kind = lim["kind"]
        if kind not in ("single", "administrations") or not _route_ok(lim, ln.route):
            continue
        how = _applies(run, lim, (e["id"],), (ln.index,), f"{e['id']} {kind} maximum")
        if how is None or (how == "qualified" and not _formulation_matches(lim, ln)):
            continue
        label = _labeled(lim, "maximum") if how == "default" else (
            f"maximum for {_when_text(lim.get('when'))}")
        sev = lim.get("severity", "error") if how != "qualified" else "info"
        if kind == "single" and ln.dose_hi is not None and ln.unit is not None:
            amount = convert(lim["amount"], lim["unit"], ln.unit, iu)
            if ln.dose_hi > amount * (1 + 1e-9):
                run.add("MR101", "dose-high", sev, (e["id"],), (ln.index,),
                        f"{name}: single dose {fmt(ln.dose_hi)} {ln.unit} exceeds the {label} "
                        f"of {fmt(amount)} {ln.unit} per dose ({_src(run, lim)})",
                        _src(run, lim))
        elif kind == "administrations" and ln.freq is not None:
            n = ln.freq.per_day_max
            if n > lim["amount"]:
                run.add("MR103", "daily-max", sev, (e["id"],), (ln.index,),
                        f"{name}: up to {n} administrations a day ({ln.freq.text}) exceeds the "
                        f"{label} of {fmt(lim['amount'])} a day ({_src(run, lim)})",
                        _src(run, lim))


def _check_typical(run: _Run, ln: _Line, e: Mapping[str, Any]) -> None:
    t = e.get("typical")
    if not t or ln.unit is None or ln.dose_hi is None:
        return
    iu = (e.get("iu_per_mcg") or {}).get("value")
    lo = convert(t["min"], t["unit"], ln.unit, iu)
    hi = convert(t["max"], t["unit"], ln.unit, iu)
    if t.get("basis", "administration") == "administration":
        value, per = ln.dose_hi, "per dose"
    else:
        if ln.daily is None:
            return
        value, per = ln.daily, "per day"
    rng = f"{fmt(lo)}-{fmt(hi)} {ln.unit} {per}" if lo != hi else f"{fmt(lo)} {ln.unit} {per}"
    if value < lo * (1 - 1e-9):
        run.add("MR104", "dose-low", "info", (e["id"],), (ln.index,),
                f"{e['name']}: {fmt(value)} {ln.unit} {per} is below the seed's typical "
                f"range of {rng}", "seed document")
    elif value > hi * (1 + 1e-9):
        run.add("MR105", "dose-high", "info", (e["id"],), (ln.index,),
                f"{e['name']}: {fmt(value)} {ln.unit} {per} is above the seed's typical "
                f"range of {rng}", "seed document")


# -- memoised line and product checks -------------------------------------------------------
# A line's checks depend only on its text and the context fields its entry's rules read, and
# a product's checks only on its lines' texts and those fields: both are memoised per
# reference, so screening many regimens does not redo them for lines that recur.

_CACHE_MAX = 2_000
"""Memo entries per reference and kind (all cleared when full): bounded memory."""

_CTX_FIELDS = {"min_age": "age", "max_age": "age", "crcl_below": "crcl",
               "hepatic_impairment": "hepatic_impairment"}


@dataclass(frozen=True, slots=True)
class _ProductCheck:
    """Outcome of the product checks for one product's lines (indexes relative to them)."""

    findings: tuple[Placed, ...]
    needs: tuple[Need, ...]
    daily_max: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class _LineCheck:
    """Outcome of one line's own checks; ``line`` is its state at index 0 (never modified).

    ``own`` are the line's findings; ``solo`` adds its product's findings for when it is the
    product's only line (the usual case).
    """

    line: _Line
    group: str | None  # the product id when the line takes part in product and regimen rules
    norm: str  # normalized text, to spot identical lines
    own: tuple[_Tmpl, ...]
    own_needs: tuple[tuple[str, str], ...]
    solo: tuple[_Tmpl, ...]
    solo_needs: tuple[tuple[str, str], ...]
    solo_daily_max: float | None
    mme: float | None  # worst-case MME/day of an opioid line


class _Memo:
    __slots__ = ("bits", "conditions", "getters", "line_checks", "line_tuples", "lines", "mme",
                 "products", "rule_bits", "rule_masks", "rule_tmpls", "totals", "totals_kind",
                 "uls")

    def __init__(self, ref: Reference) -> None:
        # text -> (line as read, context key function, checks by context, checks by class)
        self.lines: dict[str, tuple[_Line, Any, dict[Any, _LineCheck],
                                    dict[Any, _LineCheck]]] = {}
        self.products: dict[tuple[Any, ...], _ProductCheck] = {}
        self.rule_tmpls: dict[tuple[int, int], _Tmpl] = {}
        self.line_tuples: dict[int, tuple[int, ...]] = {}
        self.line_checks = 0  # line checks held in ``lines``
        self.totals: dict[tuple[Any, ...], _ProductCheck] = {}
        # entries with upper-intake or bone-healing checks: (reads age, reads weeks)
        self.totals_kind = {
            eid: (e.get("kind") == "supplement", "nsaid" in e.get("classes", ()))
            for eid, e in ref.entries.items()
            if e.get("kind") == "supplement"
            or (e.get("bone_healing") or {}).get("concern", "none") != "none"}
        # the age bands of each supplement's upper intake levels, as context conditions
        self.uls = {eid: tuple(lim.get("when") or {} for lim in ref.entries[eid].get("limits", ())
                               if lim["kind"] == "upper-intake")
                    for eid, (by_age, _) in self.totals_kind.items() if by_age}
        self.mme: dict[tuple[tuple[str | None, float | None], ...],
                       tuple[float, _Tmpl | None]] = {}
        self.conditions = {eid: _ctx_conditions(e) for eid, e in ref.entries.items()}
        self.getters: dict[str, Any] = {eid: _ctx_getter(c) for eid, c in self.conditions.items()}
        self.bits = {eid: 1 << k for k, eid in enumerate(ref.entries)}
        self.rule_bits: dict[str, int] = {}
        # per rule: (pair?, a or members, b or requires, (min_count, has requires))
        self.rule_masks: list[tuple[bool, int, int, tuple[int, bool]]] = []
        for n, (rule, sets) in enumerate(ref.rule_sets):
            for eid in frozenset().union(*sets.values()):
                self.rule_bits[eid] = self.rule_bits.get(eid, 0) | 1 << n
            mask = {k: sum(self.bits[e] for e in v) for k, v in sets.items()}
            if rule["kind"] == "pair":
                self.rule_masks.append((True, mask["a"], mask["b"], (0, False)))
            else:
                self.rule_masks.append((False, mask["members"], mask["requires"],
                                        (int(rule.get("min_count", 2)),
                                         bool(rule.get("requires")))))


def _memo(ref: Reference) -> _Memo:
    m = ref.memo.get("engine")
    if m is None:
        m = ref.memo["engine"] = _Memo(ref)
    assert isinstance(m, _Memo)
    return m


def _ctx_conditions(e: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    """The distinct ``when`` conditions of an entry's limits and context rules that read the
    patient context."""
    out: list[dict[str, Any]] = []
    for obj in (*e.get("limits", ()), *e.get("context_rules", ())):
        when = obj.get("when") or {}
        if any(when.get(k) is not None for k in _CTX_FIELDS) and when not in out:
            out.append(when)
    return tuple(out)


def _ctx_getter(conditions: tuple[dict[str, Any], ...]) -> Any:
    """The context fields those conditions read, as a key function (None: none). Upper intake
    levels (age) and bone healing (weeks since surgery) are checked apart, see
    :func:`_totals_check`."""
    fields = {_CTX_FIELDS[k] for w in conditions for k, v in w.items()
              if v is not None and k in _CTX_FIELDS}
    return attrgetter(*sorted(fields)) if fields else None


def _ctx_class(conditions: tuple[dict[str, Any], ...], ctx: Context) -> tuple[Any, ...]:
    """How a context meets each condition (None: a value it needs is not given). Line and
    product checks read the context only through these outcomes (see :func:`_applies`), so
    contexts with the same outcomes share one memoised result."""
    return tuple([met for w in conditions for _, met in context_outcomes(w, ctx)])


def _copy_line(ln: _Line, index: int) -> _Line:
    return _Line(index, ln.text, ln.parsed, ln.entry, ln.status, ln.unit, ln.dose_lo,
                 ln.dose_hi, ln.freq, ln.route, ln.daily, ln.mme, ln.daily_max, ln.error)


def _line_check(ref: Reference, memo: _Memo, ctx: Context, text: str) -> _LineCheck:
    slot = memo.lines.get(text)
    if slot is None:
        base = _read_line(ref, 0, text)
        getter = memo.getters[base.entry["id"]] if base.entry is not None else None
        if len(memo.lines) >= _CACHE_MAX:
            memo.lines.clear()
            memo.line_checks = 0
        slot = memo.lines[text] = (base, getter, {}, {})
    base, getter, by_ctx, by_class = slot
    key = getter(ctx) if getter is not None else None
    hit = by_ctx.get(key)
    if hit is None:
        # contexts that meet the entry's conditions alike share one line check
        cls = (_ctx_class(memo.conditions[base.entry["id"]], ctx)
               if base.entry is not None and getter is not None else None)
        hit = by_class.get(cls)
        if hit is None:
            if memo.line_checks >= _CACHE_MAX:
                for held in memo.lines.values():
                    held[2].clear()
                    held[3].clear()
                memo.line_checks = 0
            hit = by_class[cls] = _new_line_check(ref, ctx, base)
            memo.line_checks += 1
        if len(by_ctx) >= 1024:
            by_ctx.clear()
        by_ctx[key] = hit
    return hit


def _new_line_check(ref: Reference, ctx: Context, base: _Line) -> _LineCheck:
    sub = _Run(ref, ctx, [_copy_line(base, 0)])
    ln = sub.lines[0]
    _check_line(sub, ln)
    _line_mme(sub, ln)
    e = ln.entry
    group = e["id"] if e is not None and ln.parsed is not None and not ln.parsed.problems \
        else None
    own = tuple(f[2] for f in sub.findings)
    own_needs = tuple((w, p) for w, p, _ in sub.needs)
    solo, solo_needs, dmax = own, own_needs, None
    if group is not None and e is not None:
        psub = _Run(ref, ctx, [_copy_line(ln, 0)])
        _check_product(psub, e, psub.lines)
        solo = own + tuple(f[2] for f in psub.findings)
        solo_needs = own_needs + tuple((w, p) for w, p, _ in psub.needs)
        dmax = psub.lines[0].daily_max
    return _LineCheck(ln, group, normalize(ln.text), own, own_needs, solo, solo_needs, dmax,
                      ln.mme)


def _product_check(ref: Reference, memo: _Memo, ctx: Context, eid: str,
                   checks: list[_LineCheck]) -> _ProductCheck:
    key = (eid, tuple(lc.line.text for lc in checks),
           _ctx_class(memo.conditions[eid], ctx) if memo.getters[eid] else None)
    hit = memo.products.get(key)
    if hit is None:
        sub = _Run(ref, ctx, [_copy_line(lc.line, i) for i, lc in enumerate(checks)])
        _check_product(sub, ref.entries[eid], sub.lines)
        hit = _ProductCheck(tuple(sub.findings), tuple(sub.needs),
                            tuple(s.daily_max for s in sub.lines))
        if len(memo.products) >= _CACHE_MAX:
            memo.products.clear()
        memo.products[key] = hit
    return hit


def _totals_check(ref: Reference, memo: _Memo, ctx: Context, eid: str,
                  kind: tuple[bool, bool], checks: list[_LineCheck]) -> _ProductCheck:
    """Upper intake level and bone-healing checks for one product's lines, memoised on the
    lines' texts and only the context they read: for a supplement, which of its upper-intake
    age bands the age falls in; for an NSAID, the weeks since surgery when inside the
    early-healing window (outside it they change nothing)."""
    by_age, by_weeks = kind
    age = _ctx_class(memo.uls[eid], ctx) if by_age else None
    weeks: Any = None
    if by_weeks and ctx.weeks_since_surgery is not None:
        window = ref.policy["nsaid_early_window_weeks"]["value"]
        weeks = ctx.weeks_since_surgery if ctx.weeks_since_surgery < window else "outside"
    key = (eid, checks[0].line.text if len(checks) == 1 else
           tuple(lc.line.text for lc in checks), age,
           by_weeks and ctx.weeks_since_surgery is None, weeks)
    hit = memo.totals.get(key)
    if hit is None:
        sub = _Run(ref, ctx, [_copy_line(lc.line, i) for i, lc in enumerate(checks)])
        _check_totals(sub, ref.entries[eid], sub.lines)
        hit = _ProductCheck(tuple(sub.findings), tuple(sub.needs), ())
        if len(memo.totals) >= _CACHE_MAX:
            memo.totals.clear()
        memo.totals[key] = hit
    return hit


_AT_N = 64
_AT = tuple((i,) for i in range(_AT_N))  # shared one-line index tuples


@dataclass(frozen=True, slots=True)
class Assessment:
    """The findings for a regimen before they are rendered (internal to medref).

    ``findings`` are sorted as :meth:`Finding.sort_key`; ``checks[i].line`` holds what was read
    from line ``i``; ``daily_max[i]`` is the enforced per-day maximum for that line.
    """

    checks: list[_LineCheck]
    findings: list[Placed]
    daily_max: list[float | None]
    mme: float | None


def assess(ref: Reference, ctx: Context, texts: list[str]) -> Assessment:
    """Run every check on a regimen's lines (the core behind :func:`check` and batch)."""
    memo = _memo(ref)
    lines_memo = memo.lines
    checks = []
    for text in texts:
        slot = lines_memo.get(text)
        if slot is None:
            checks.append(_line_check(ref, memo, ctx, text))
            continue
        getter = slot[1]
        lc = slot[2].get(getter(ctx) if getter is not None else None)
        checks.append(lc if lc is not None else _line_check(ref, memo, ctx, text))
    groups: dict[str, list[int]] = {}
    for i, lc in enumerate(checks):
        g = lc.group
        if g is not None:
            if g in groups:
                groups[g].append(i)
            else:
                groups[g] = [i]
    findings: list[Placed] = []
    needs: list[Need] = []
    daily_max: list[float | None] = [None] * len(checks)
    multi = False
    opioids = []
    for i, lc in enumerate(checks):
        if lc.mme is not None:
            opioids.append(i)
        g = lc.group
        alone = g is None or len(groups[g]) == 1
        if not alone:
            multi = True
        ts, ns = (lc.solo, lc.solo_needs) if alone else (lc.own, lc.own_needs)
        if ts or ns:
            at = _AT[i] if i < _AT_N else (i,)
            if ts:
                findings.extend([(t.key, at, t) for t in ts])
            if ns:
                needs.extend([(w, p, at) for w, p in ns])
        if g is not None and alone:
            daily_max[i] = lc.solo_daily_max
    if multi:
        for eid, idx in groups.items():
            if len(idx) == 1:
                continue
            pc = _product_check(ref, memo, ctx, eid, [checks[i] for i in idx])
            findings.extend([_place(f[2], tuple([idx[r] for r in f[1]]))
                             for f in pc.findings])
            needs.extend([(w, p, tuple([idx[r] for r in rel])) for w, p, rel in pc.needs])
            for r, dm in enumerate(pc.daily_max):
                daily_max[idx[r]] = dm
    totals = memo.totals_kind
    for eid, idx in groups.items():
        kind = totals.get(eid)
        if kind is None:
            continue
        tc = _totals_check(ref, memo, ctx, eid, kind, [checks[i] for i in idx])
        if len(idx) == 1:
            at = (idx[0],)
            if tc.findings:
                findings.extend([(f[0], at, f[2]) for f in tc.findings])
            if tc.needs:
                needs.extend([(w, p, at) for w, p, _ in tc.needs])
        else:
            findings.extend([_place(f[2], tuple([idx[r] for r in f[1]]))
                             for f in tc.findings])
            needs.extend([(w, p, tuple([idx[r] for r in rel])) for w, p, rel in tc.needs])
    if len(checks) > 1:
        _check_duplicate_lines(checks, findings)
    if len(groups) > 1:
        _check_rules(ref, memo, groups, findings)
    mme = _check_mme(ref, memo, checks, opioids, findings) if opioids else None
    if needs:
        _report_needs(needs, findings)
    findings.sort()
    return Assessment(checks, findings, daily_max, mme)


def _check_duplicate_lines(checks: list[_LineCheck], findings: list[Placed]) -> None:
    norms = [lc.norm for lc in checks]
    if len(set(norms)) == len(norms):
        return
    seen: dict[str, list[int]] = {}
    for i, key in enumerate(norms):
        seen.setdefault(key, []).append(i)
    for key, group in seen.items():
        if len(group) < 2 or not key:
            continue
        first = checks[group[0]].line.entry
        where = ", ".join(str(i + 1) for i in group)
        findings.append(_place(_tmpl("MR008", "duplicate-therapy", "warning",
                                     (first["id"],) if first is not None else (),
                                     f"lines {where} are the same ({key[:60]!r}); each was "
                                     "counted in the totals"), tuple(group)))


def _check_product(run: _Run, e: dict[str, Any], lines: list[_Line]) -> None:
    if len(lines) > 1:
        _check_same_product(run, e, lines)
    dosed = [ln for ln in lines if ln.daily is not None and ln.unit is not None]
    _check_periods(run, e, lines, dosed)
    _check_duration(run, e, lines)
    _check_context_rules(run, e, lines)


def _check_same_product(run: _Run, e: Mapping[str, Any], lines: list[_Line]) -> None:
    """MR009: one product on several lines written differently (brand and generic, two
    strengths, scheduled and PRN, two routes). Identical lines are MR008's."""
    first = lines[0].text.casefold().split()
    if all(ln.text.casefold().split() == first for ln in lines):
        return
    routes = sorted({ln.route or "unstated" for ln in lines})
    why = ("their amounts are summed in the totals" if len(routes) == 1 else
           f"they use different routes ({', '.join(routes)}): each route was checked against "
           "its own limits and no limit on file covers the routes combined")
    run.add("MR009", "duplicate-therapy", "warning", (e["id"],),
            tuple(ln.index for ln in lines),
            f"{e['name']} is on {len(lines)} lines written differently (brand and generic, "
            f"two strengths, scheduled and PRN ...): confirm each is intended; {why}")


def _check_totals(run: _Run, e: dict[str, Any], lines: list[_Line]) -> None:
    """The product checks that read age (upper intake levels) or weeks since surgery."""
    dosed = [ln for ln in lines if ln.daily is not None and ln.unit is not None]
    _check_upper_limit(run, e, lines, dosed)
    _check_bone(run, e, lines, dosed)


def _contrib(lines: list[_Line], days: float, unit: str) -> str:
    parts = []
    for ln in lines:
        total = ln.period_total(days) or 0.0
        # memoised per product: name each line by its text, not its (relative) position
        text = ln.text if len(ln.text) <= 40 else ln.text[:37] + "..."
        parts.append(f"{fmt(total)} {unit} from {text!r}")
    return " + ".join(parts)


def _check_periods(run: _Run, e: Mapping[str, Any], lines: list[_Line],
                   dosed: list[_Line]) -> None:
    if not dosed:
        return
    iu = (e.get("iu_per_mcg") or {}).get("value")
    unit = dosed[0].unit or ""
    name = e["name"]
    has_default = False
    for lim in e.get("limits", ()):
        if lim["kind"] != "period":
            continue
        routed = [ln for ln in dosed if _route_ok(lim, ln.route)]
        if not routed:
            continue
        idx = [ln.index for ln in routed]
        how = _applies(run, lim, (e["id"],), idx, f"{e['id']} maximum per {lim['period']}")
        if how is None:
            continue
        days = PERIOD_DAYS[lim["period"]]
        if how == "qualified":
            routed = [ln for ln in routed if _formulation_matches(lim, ln)]
            # a labeled alternative regimen (indication, formulation) only compares with lines
            # dosed on the same time scale: a weekly dose is not a daily regimen
            routed = [ln for ln in routed if ln.freq is not None and _window(ln.freq) <= days]
            if not routed:
                continue
            idx = [ln.index for ln in routed]
        amount = convert(lim["amount"], lim["unit"], unit, iu)
        if how == "default":
            has_default = True
        if how in ("default", "context") and lim["period"] == "day":
            for ln in routed:
                ln.daily_max = amount if ln.daily_max is None else min(ln.daily_max, amount)
        total = sum(ln.period_total(days) or 0.0 for ln in routed)
        if total <= amount * (1 + 1e-9):
            continue
        per = lim["period"]
        src = _src(run, lim)
        if how == "default":
            label, code = f"the {_labeled(lim, 'maximum')}", "MR102"
            sev = lim.get("severity", "error")
        elif how == "context":
            label = f"the maximum for {_when_text(lim.get('when'))}"
            sev, code = lim.get("severity", "error"), "MR107"
        else:
            label = f"the {_labeled(lim, 'maximum')} for {_when_text(lim.get('when'))}"
            sev, code = "info", "MR106"
        if lim.get("label") and how == "default" and sev != "error":
            label += f" ({lim['label']})"
        if len(routed) > 1 and how != "qualified":
            code = "MR301" if how == "default" else code
            msg = (f"{name}: worst case {fmt(total)} {unit}/{per} across {len(routed)} lines "
                   f"({_contrib(routed, days, unit)}) exceeds {label} of {fmt(amount)} "
                   f"{unit}/{per} ({src})")
        else:
            ln0 = routed[0]
            detail = ""
            if ln0.freq is not None and len(routed) == 1:
                prn = " prn" if ln0.parsed and ln0.parsed.prn else ""
                detail = (f" ({fmt(ln0.dose_hi or 0)} {unit} x {ln0.freq.max_in(days)} "
                          f"administrations, {ln0.freq.text}{prn})")
            msg = (f"{name}: worst case {fmt(total)} {unit}/{per}{detail} exceeds {label} of "
                   f"{fmt(amount)} {unit}/{per} ({src})")
        run.add(code, "daily-max", sev, (e["id"],), idx, msg, src)
    has_any_limit = any(lim["kind"] in ("single", "administrations") and not lim.get("when")
                        for lim in e.get("limits", ()))
    concentration = unit == "%" and any(
        lim["kind"] == "administrations" and not lim.get("when") for lim in e.get("limits", ()))
    if not has_default and not concentration and e["kind"] != "supplement":
        idx = [ln.index for ln in dosed]
        extra = (" (single-dose or administration limits were checked)" if has_any_limit
                 else "")
        if "opioid" in e.get("classes", ()):
            extra += "; opioid MME/day is checked instead"
        run.add("MR004", "unverifiable", "warning", (e["id"],), idx,
                f"{name}: no labeled maximum per day on file, so the daily total was not "
                f"compared with a limit{extra}")


def _window(f: Frequency) -> float:
    """The natural time scale of a frequency in days (1 for daily or more often)."""
    if f.once:
        return 1
    if f.interval_min_h is not None:
        return max(1.0, f.interval_min_h / 24)
    return f.window_days


def _check_upper_limit(run: _Run, e: Mapping[str, Any], lines: list[_Line],
                       dosed: list[_Line]) -> None:
    if e["kind"] != "supplement" or not dosed:
        return
    uls = [lim for lim in e.get("limits", ()) if lim["kind"] == "upper-intake"]
    name = e["name"]
    idx = [ln.index for ln in dosed]
    unit = dosed[0].unit or ""
    iu = (e.get("iu_per_mcg") or {}).get("value")
    if not uls:
        run.add("MR004", "unverifiable", "warning", (e["id"],), idx,
                f"{name}: no Tolerable Upper Intake Level on file, so the daily amount was not "
                "compared with a limit")
        return
    age = run.ctx.age
    if age is not None:
        band = [u for u in uls if _age_in(u, age)]
        if not band:
            bands = "; ".join(_when_text(u.get("when")) or "all ages" for u in uls)
            run.add("MR004", "unverifiable", "warning", (e["id"],), idx,
                    f"{name}: no Tolerable Upper Intake Level on file for this age (bands on "
                    f"file: {bands})")
            return
        chosen = min(band, key=lambda u: convert(u["amount"], u["unit"], unit, iu))
        # the band, not the age: the finding reads age only through the bands it falls in
        band_note = f"for {_when_text(chosen.get('when')) or 'all ages'}"
    else:
        adult = [u for u in uls if (u.get("when") or {}).get("max_age") is None
                 or (u.get("when") or {}).get("max_age", 0) >= 19]
        chosen = min(adult or uls, key=lambda u: convert(u["amount"], u["unit"], unit, iu))
        if len({u["amount"] for u in adult}) > 1:
            run.need("age", f"{e['id']} upper-limit age band", idx)
            band_note = "(age not given: the most conservative adult band)"
        else:
            band_note = "for adults"
    amount = convert(chosen["amount"], chosen["unit"], unit, iu)
    total = sum(ln.daily or 0.0 for ln in dosed)
    if total <= amount * (1 + 1e-9):
        return
    basis = e.get("amount_basis")
    frac = (e.get("elemental_fraction") or {}).get("value")
    if basis == "ambiguous":
        how = (f"taking the amount as elemental (the line does not say; if it is the salt "
               f"weight, elemental content is about {fmt(frac * 100)}% of it)" if frac else
               "taking the amount as elemental (the line does not say)")
    elif basis == "elemental":
        how = "as elemental"
    else:
        how = "as written"
    scope = {"supplemental": "the limit covers supplements and medicines only",
             "total": "the limit covers total intake, so diet adds to this"}.get(
                 chosen.get("basis") or "", "")
    src = _src(run, chosen)
    contrib = f" ({_contrib(dosed, 1, unit)})" if len(dosed) > 1 else ""
    run.add("MR401", "upper-limit", chosen.get("severity", "warning"), (e["id"],), idx,
            f"{name}: {fmt(total)} {unit}/day{contrib} {how} exceeds the Tolerable Upper "
            f"Intake Level of {fmt(amount)} {unit}/day {band_note}"
            + (f"; {scope}" if scope else "") + f" ({src})", src)


def _age_in(lim: Mapping[str, Any], age: int) -> bool:
    w = lim.get("when") or {}
    return ((w.get("min_age") is None or age >= w["min_age"])
            and (w.get("max_age") is None or age <= w["max_age"]))


def _check_bone(run: _Run, e: Mapping[str, Any], lines: list[_Line],
                dosed: list[_Line]) -> None:
    bh = e.get("bone_healing") or {}
    if bh.get("concern", "none") == "none":
        return
    sev = bh.get("severity") or "warning"
    idx = [ln.index for ln in lines]
    reasons = []
    if bh.get("high_dose") and dosed:
        iu = (e.get("iu_per_mcg") or {}).get("value")
        unit = dosed[0].unit or ""
        thr = convert(bh["high_dose"], bh["high_dose_unit"], unit, iu)
        total = sum(ln.daily or 0.0 for ln in dosed)
        if total > thr * (1 + 1e-9):
            sev = _raise_sev(sev)
            basis = f" ({bh['note']})" if bh.get("note") else ""
            reasons.append(f"worst case {fmt(total)} {unit}/day is above the high-dose "
                           f"threshold of {fmt(thr)} {unit}/day{basis}")
    if "nsaid" in e.get("classes", ()):
        pol = run.ref.policy["nsaid_early_window_weeks"]
        window = pol["value"]
        weeks = run.ctx.weeks_since_surgery
        if weeks is None:
            run.need("weeks-since-surgery", f"{e['id']} early-healing-window severity", idx)
        elif weeks < window:
            sev = _raise_sev(sev)
            unsure = "" if pol.get("verified", True) else (
                ", medref's operational window, not a published figure")
            reasons.append(f"{fmt(weeks)} weeks since surgery is inside the early healing "
                           f"window of {fmt(window)} weeks{unsure}")
    why = ("; severity raised: " + "; ".join(reasons)) if reasons else ""
    rationale = str(bh.get("rationale", ""))
    if why:
        rationale = rationale.rstrip(".")
    src = _src(run, bh)
    grade = bh.get("evidence", "unverified")
    if not bh.get("verified", True) and grade != "unverified":
        grade += ", grade not verified"
    run.add("MR201", "bone-healing", sev, (e["id"],), idx,
            f"{e['name']}: bone-healing concern ({bh['concern']}, evidence {grade}): "
            f"{rationale}{why}", src)


def _check_duration(run: _Run, e: Mapping[str, Any], lines: list[_Line]) -> None:
    with_dur = [ln for ln in lines if ln.parsed is not None
                and (ln.parsed.duration_days is not None or ln.parsed.duration_doses)]
    if not with_dur:
        return
    for lim in e.get("limits", ()):
        if lim["kind"] not in ("duration", "course") or not any(
                _route_ok(lim, ln.route) for ln in with_dur):
            continue
        routed = [ln for ln in with_dur if _route_ok(lim, ln.route)]
        idx = [ln.index for ln in routed]
        how = _applies(run, lim, (e["id"],), idx, f"{e['id']} {lim['kind']} limit")
        if how is None:
            continue
        sev = lim.get("severity", "error") if how != "qualified" else "info"
        src = _src(run, lim)
        if lim["kind"] == "duration":
            days = sum(ln.parsed.duration_days or 0.0 for ln in routed if ln.parsed)
            if days > lim["amount"] * (1 + 1e-9):
                total = " in total" if len(routed) > 1 else ""
                run.add("MR501", "duration", sev, (e["id"],), idx,
                        f"{e['name']}: {fmt(days)} days{total} exceeds the "
                        f"{_labeled(lim, 'limit')} of {fmt(lim['amount'])} days ({src})", src)
        else:
            count = 0
            for ln in routed:
                p = ln.parsed
                if p is None:
                    continue
                if p.duration_doses:
                    count += p.duration_doses
                elif p.duration_days is not None and ln.freq is not None:
                    count += ln.freq.max_in(p.duration_days)
            if count > lim["amount"]:
                run.add("MR502", "duration", sev, (e["id"],), idx,
                        f"{e['name']}: up to {count} administrations exceeds the course limit "
                        f"of {fmt(lim['amount'])} ({src})", src)


def _check_context_rules(run: _Run, e: Mapping[str, Any], lines: list[_Line]) -> None:
    idx = [ln.index for ln in lines]
    for rule in e.get("context_rules", ()):
        how = _applies(run, rule, (e["id"],), idx, f"{e['id']} {rule['action']} rule")
        if how != "context":
            continue
        src = _src(run, rule)
        run.add("MR601", "interaction", rule["severity"], (e["id"],), idx,
                f"{e['name']}: {rule['action']} with {_when_text(rule['when'])}: "
                f"{rule['message']} ({src})", src)


# -- regimen-wide rules from interactions.json --------------------------------------------

_CATEGORY_CODE = {"duplicate-therapy": "MR302", "interaction": "MR303",
                  "administration": "MR304"}


def _check_rules(ref: Reference, memo: _Memo, groups: dict[str, list[int]],
                 findings: list[Placed]) -> None:
    """Interaction, duplicate-therapy and timing rules over the regimen's products.

    Products, lines and rules are bits of ints: a rule can fire only when two or more of the
    products are named in it (``min_count`` >= 2), so only those rules are evaluated.
    """
    bits = memo.bits
    rule_bits = memo.rule_bits
    present = once = twice = 0
    line_bits: dict[int, int] = {}
    for eid, idx in groups.items():
        b = bits[eid]
        present |= b
        r = rule_bits.get(eid, 0)
        twice |= once & r
        once |= r
        lm = 0
        for i in idx:
            lm |= 1 << i
        line_bits[b] = lm
    while twice:
        low = twice & -twice
        twice ^= low
        n = low.bit_length() - 1
        pair, sel_a, sel_b, needs_req = memo.rule_masks[n]
        if pair:
            a = present & sel_a
            b = present & sel_b
            if not a or not b:
                continue
            # x in a pairs with some y != x in b (and the other way round)
            hits = (a if b & (b - 1) else a & ~b) | (b if a & (a - 1) else b & ~a)
        else:
            hits = present & sel_a
            if hits.bit_count() < needs_req[0]:
                continue
            if needs_req[1]:
                req = present & sel_b
                if not req:
                    continue
                hits |= req
        if not hits:
            continue
        t = memo.rule_tmpls.get((n, hits))
        if t is None:
            t = _rule_tmpl(ref, memo, n, hits)
        lm = 0
        h = hits
        while h:
            low = h & -h
            h ^= low
            lm |= line_bits[low]
        lines = memo.line_tuples.get(lm)
        if lines is None:
            lines = tuple(i for i in range(lm.bit_length()) if lm >> i & 1)
            if len(memo.line_tuples) < _CACHE_MAX:
                memo.line_tuples[lm] = lines
        findings.append((t.key, lines, t))


def _rule_tmpl(ref: Reference, memo: _Memo, n: int, hits: int) -> _Tmpl:
    rule = ref.rule_sets[n][0]
    involved = tuple(sorted(eid for eid, b in memo.bits.items() if hits & b))
    names = ", ".join(ref.entries[i]["name"] for i in involved)
    src = ref.source_label(rule.get("sources", ()), bool(rule.get("verified", True)))
    t = _tmpl(_CATEGORY_CODE[rule["category"]], rule["category"], rule["severity"], involved,
              f"{rule['title']} ({names}; {rule['level']}): {rule['mechanism']} "
              f"Action: {rule['action']}", src, rule["id"])
    if len(memo.rule_tmpls) >= _CACHE_MAX:
        memo.rule_tmpls.clear()
    memo.rule_tmpls[(n, hits)] = t
    return t


# -- opioid MME -----------------------------------------------------------------------------

def _line_mme(run: _Run, ln: _Line) -> None:
    """Set an opioid line's MME/day, or say why it cannot be computed (MR307)."""
    e = ln.entry
    if e is None or not e.get("mme_factor") or ln.parsed is None or ln.parsed.problems:
        return
    if ln.route not in (None, "po"):
        run.add("MR307", "unverifiable", "warning", (e["id"],), (ln.index,),
                f"{e['name']}: MME not computed for route {ln.route!r}: the CDC factors "
                "are for oral dosing")
        return
    if ln.daily is None or ln.unit != "mg":
        run.add("MR307", "unverifiable", "warning", (e["id"],), (ln.index,),
                f"{e['name']}: MME/day not computed (no dose in mg or no frequency on the "
                "line); the opioid total is incomplete")
        return
    ln.mme = ln.daily * e["mme_factor"]["value"]


def _check_mme(ref: Reference, memo: _Memo, checks: list[_LineCheck], opioids: list[int],
               findings: list[Placed]) -> float:
    """The regimen's worst-case MME/day over its opioid lines, with MR305/MR306."""
    parts = tuple([(checks[i].group, checks[i].mme) for i in opioids])
    hit = memo.mme.get(parts)
    if hit is None:
        hit = _mme_total(ref, parts)
        if len(memo.mme) >= _CACHE_MAX:
            memo.mme.clear()
        memo.mme[parts] = hit
    total, t = hit
    if t is not None:
        at = tuple(opioids)
        findings.append((t.key, at, t))
    return total


def _mme_total(ref: Reference, parts: tuple[tuple[str | None, float | None], ...]
               ) -> tuple[float, _Tmpl | None]:
    total = sum(m or 0.0 for _, m in parts)
    pol = ref.policy
    warn, high = pol["mme_warning"]["value"], pol["mme_high"]["value"]
    if total < warn:
        return _round(total) or 0.0, None
    table = pol["mme_factor_table"]["name"]
    detail = " + ".join(f"{ref.entries[eid or ''].get('name', '').lower()} {fmt(m or 0.0)}"
                        for eid, m in parts)
    ids = tuple(sorted({eid or "" for eid, _ in parts}))
    lim = pol["mme_high"] if total >= high else pol["mme_warning"]
    src = ref.source_label(lim.get("sources", ()), bool(lim.get("verified", True)))
    if total >= high:
        t = _tmpl("MR306", "opioid-mme", "error", ids,
                  f"opioids: worst case {fmt(total)} MME/day ({detail}) is at or above "
                  f"{fmt(high)} MME/day, where overdose risk rises further: a flag, not a "
                  f"limit; reassess benefit and risk, offer naloxone ({table}; {src})", src)
    else:
        t = _tmpl("MR305", "opioid-mme", "warning", ids,
                  f"opioids: worst case {fmt(total)} MME/day ({detail}) is at or above "
                  f"{fmt(warn)} MME/day: reassess benefit and risk, consider naloxone "
                  f"({table}; {src})", src)
    return _round(total) or 0.0, t


_NEED_LABELS = {"age": "age (--age)", "crcl": "creatinine clearance (--crcl)",
                "hepatic-impairment": "hepatic function (--hepatic-impairment)",
                "weeks-since-surgery": "weeks since surgery (--weeks-since-surgery)"}


def _report_needs(needs: list[Need], findings: list[Placed]) -> None:
    agg: dict[str, tuple[list[str], list[int]]] = {}
    for what, purpose, at in needs:
        slot = agg.get(what)
        if slot is None:
            agg[what] = ([purpose], list(at))
        else:
            slot[0].append(purpose)
            slot[1].extend(at)
    for what, (purposes, lines) in agg.items():
        key = (what, tuple(sorted(set(purposes))))
        t = _NEED_TMPLS.get(key)
        if t is None:
            t = _tmpl("MR602", "unverifiable", "info",
                      tuple(sorted({p.split(" ")[0] for p in key[1]})),
                      f"{_NEED_LABELS.get(what, what)} not given: could not check "
                      + ", ".join(key[1]))
            if len(_NEED_TMPLS) >= _CACHE_MAX:
                _NEED_TMPLS.clear()
            _NEED_TMPLS[key] = t
        findings.append(_place(t, tuple(sorted(set(lines)))))


_NEED_TMPLS: dict[tuple[str, tuple[str, ...]], _Tmpl] = {}


def to_result(ref: Reference, ctx: Context, a: Assessment) -> CheckResult:
    """The :class:`CheckResult` of an assessment (what :func:`check` returns)."""
    items = []
    for i, lc in enumerate(a.checks):
        ln = lc.line
        p, e = ln.parsed, ln.entry
        dmax = a.daily_max[i]
        pct = None
        if ln.daily is not None and dmax:
            pct = round(100 * ln.daily / dmax, 1)
        items.append(ItemResult(
            line=i, input=ln.text, product=e["id"] if e else None, status=ln.status,
            name=e["name"] if e else (p.name if p else None), kind=e["kind"] if e else None,
            dose=p.dose if p else None, dose_max=p.dose_max if p else None,
            unit=p.unit if p else None, route=ln.route if e else (p.route if p else None),
            frequency=(p.frequency.text + (" prn" if p.prn else "")) if p and p.frequency
            else ("prn" if p and p.prn else None),
            administrations_per_day=p.frequency.per_day_max if p and p.frequency else None,
            prn=bool(p and p.prn), prn_reason=p.prn_reason if p else None,
            duration_days=p.duration_days if p else None,
            daily_total=_round(ln.daily), daily_unit=ln.unit if ln.daily is not None else None,
            daily_max=dmax, percent_of_max=pct, mme_per_day=_round(ln.mme),
            unparsed=tuple(p.unparsed) if p else ()))
    findings = tuple(f[2].finding(f[1]) for f in a.findings)
    by_sev, by_cat, statuses = tally(a)
    summary = Summary(items=len(items), checked=statuses["checked"], statuses=statuses,
                      findings=len(findings), by_severity=by_sev, by_category=by_cat,
                      highest_severity=findings[0].severity if findings else None,
                      mme_per_day=a.mme, mme_factor_table=ref.policy["mme_factor_table"]
                      ["version"], context=ctx, data=ref.info.to_dict())
    return CheckResult(tuple(items), findings, summary)


def tally(a: Assessment) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Findings by severity (info, warning, error), by category (sorted), items by status."""
    by_sev = dict.fromkeys(SEVERITIES, 0)
    by_cat: dict[str, int] = {}
    for f in a.findings:
        t = f[2]
        by_sev[t.severity] += 1
        by_cat[t.category] = by_cat.get(t.category, 0) + 1
    statuses = dict.fromkeys(("checked", "unverifiable", "unparseable", "unknown"), 0)
    for lc in a.checks:
        statuses[lc.line.status] += 1
    return by_sev, dict(sorted(by_cat.items())), statuses


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
