"""Reading one regimen item into a :class:`~medref.regimen.MedicationLine`.

A sig line is read by the sig grammar (:mod:`medref.sig`). A structured item is read field by
field: numbers and booleans are taken as they are, ``prn_reason`` verbatim, and only the fields
that are text a person typed (name, strength, form, route, frequency, a duration in words) go
through the grammar, so nothing given as data is ever turned into text and read back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from medref.errors import InputError, SigError
from medref.knowledge import fmt
from medref.reference import Reference
from medref.regimen import ORIGIN_FIELD, ORIGIN_SIG, IngredientDose, MedicationLine
from medref.sig import (
    COUNT_UNITS,
    UNIT_ALIASES,
    ParsedLine,
    add_amount,
    finish,
    parse_line,
    scan_rest,
    split_name,
)
from medref.text import SALT_WORDS, clean_text, normalize

Resolve = Callable[[str], str | None]
Suggest = Callable[[str], tuple[str, ...]]
"""Suggestions for a normalized name."""

STRUCTURED_FIELDS = ("name", "dose", "dose_max", "unit", "frequency", "route", "prn",
                     "prn_reason", "duration", "strength", "form", "sig")
"""The fields of a structured item (see :class:`medref.schema.StructuredItem`)."""

_SIG_FIELDS = ("name", "dose", "dose_max", "unit", "route", "frequency", "prn", "prn_reason",
               "duration_days", "duration_doses", "strength", "form", "formulation")


_LIQUID_FORMS = frozenset({"solution", "liquid", "syrup", "elixir", "powder", "suspension"})
"""Forms read as immediate-release when a line does not say (a drug whose default is
extended-release: potassium chloride solution or powder)."""


def _line(p: ParsedLine, text: str, lex: Lexicon | None,
          given: frozenset[str] = frozenset()) -> MedicationLine:
    provenance = tuple((f, ORIGIN_FIELD if f in given else ORIGIN_SIG) for f in _SIG_FIELDS
                       if getattr(p, f, None) not in (None, False))
    suggestions = (lex.suggest(p.name) if p.product is None and lex is not None else ())
    fields = _resolve(p, lex) if p.product is not None and lex is not None else _plain(p)
    unit = fields.pop("unit", p.unit)
    return MedicationLine(
        text=text, name=p.name, dose=p.dose,
        dose_max=p.dose_max, unit=unit, route=p.route, frequency=p.frequency, prn=p.prn,
        prn_reason=p.prn_reason, duration_days=p.duration_days,
        duration_doses=p.duration_doses, form=p.form,
        strength=p.strength, strength_unit=p.strength_unit, unparsed=tuple(p.unparsed),
        provenance=provenance, suggestions=suggestions, norm=p.norm,
        cap_units=p.cap_units if p.cap_units is not None else None,
        cap_amount=p.cap_amount, cap_amount_unit=p.cap_amount_unit, cap_text=p.cap_text,
        cap_per_day=p.cap_per_day, steps=p.steps, slot_units=p.slot_units,
        indication=p.indication, notes=tuple(p.notes), **fields)


def line_from_parsed(p: ParsedLine, text: str, lex: Lexicon | None,
                     given: frozenset[str] = frozenset()) -> MedicationLine:
    """The :class:`MedicationLine` for a line read into ``p`` (by the sig grammar, or field by
    field by a structured or FHIR reader): the product resolved, its ingredients and amounts,
    and where each field came from (``given``: the fields that were data, not text)."""
    return _line(p, text, lex, given)


def _plain(p: ParsedLine) -> dict[str, Any]:
    """Line fields when the name is unknown (or no lexicon is given)."""
    ingredients = ((IngredientDose(p.product, p.dose, p.dose_max, p.unit),)
                   if p.product is not None else ())
    return {"product": p.product, "ingredients": ingredients, "formulation": p.formulation,
            "problems": tuple(p.problems), "units": p.count, "units_max": p.count_max,
            "unit_of_use": p.count_unit}


class Lexicon:
    """What the readers need of a reference: names, suggestions, ingredients and products."""

    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self.kb = reference.knowledge
        self.resolve = reference.resolve
        self.suggest = reference.suggest_normalized
        self.combos: dict[str, frozenset[tuple[float, ...]]] = {
            pid: _strengths(pr) for pid, pr in reference.products.items()
            if len(pr["ingredients"]) > 1}
        """The combination products, each with its strengths (component amounts in order)."""


def _strengths(product: Mapping[str, Any]) -> frozenset[tuple[float, ...]]:
    return frozenset(tuple(float(c["amount"]) for c in st["components"])
                     for st in product["strengths"])


def _scaled(lo: float | None, hi: float | None, k: float) -> tuple[float | None, float | None]:
    return (None if lo is None else lo * k, None if hi is None else hi * k)


def _resolve(p: ParsedLine, lex: Lexicon) -> dict[str, Any]:
    """A known name: the ingredients and amounts a line delivers, its formulation and what
    was assumed (a product's strength, a count, a formulation)."""
    info = lex.reference.name_info(p.name)
    kb = lex.kb
    problems = list(p.problems)
    notes: list[str] = []
    out: dict[str, Any] = {"units": p.count, "units_max": p.count_max,
                           "unit_of_use": p.count_unit}
    product = kb.products.get(info.product) if info is not None and info.product else None
    if product is None:
        ing = kb.ingredients.get(p.product or "")
        if ing is None:
            return {**_plain(p), "problems": tuple(problems)}
        lo, hi, unit = p.dose, p.dose_max, p.unit
        if info is not None and info.base_per_salt is not None and unit not in COUNT_UNITS:
            lo, hi = _scaled(lo, hi, info.base_per_salt)
            out["salt"] = info.salt
            what = ("elemental" if ing.amount_basis == "elemental"
                    else f"of {ing.name.lower()}")
            notes.append(f"{info.salt} {fmt(p.dose or 0)} {unit} is {fmt(lo or 0)} {unit} {what} "
                         f"(x {info.base_per_salt:g})" if p.dose is not None else "")
        formulation = p.formulation
        if formulation is None and ing.formulation_specific:
            formulation = ing.default_formulation or "IR"
            why = "the line does not say; the limits differ by formulation"
            if (formulation == "ER" and p.frequency is not None
                    and p.frequency.per_day_max >= 3 and p.name == normalize(ing.name)
                    and any(lim.formulations and "IR" in lim.formulations
                            for lim in ing.limits)):
                # an extended-release default is not taken three or more times a day
                # ("nifedipine 10 mg tid"): immediate-release, whose own limits apply (the
                # generic name only: a brand such as Imdur or Adalat CC is extended-release)
                formulation = "IR"
                why = (f"the line does not say, and {p.frequency.per_day_max} doses a day fit "
                       "immediate-release, not extended-release")
            elif formulation == "ER" and (p.form in _LIQUID_FORMS
                                          or p.route not in (None, "po")):
                # "potassium chloride oral solution": a liquid is immediate-release unless
                # the line says otherwise (an extended-release suspension says XR or ER)
                formulation = "IR"
                what = p.form if p.form in _LIQUID_FORMS else f"{p.route} dose"
                why = f"the line does not say, and a {what} is not extended-release"
            out["formulation_assumed"] = True
            kind = {"IR": "immediate", "ER": "extended"}.get(formulation, formulation)
            notes.append(f"{kind}-release assumed ({why})")
        out.update(product=ing.id, formulation=formulation,
                   ingredients=(IngredientDose(ing.id, lo, hi, unit),))
        out["assumptions"] = tuple(n for n in notes if n)
        out["problems"] = tuple(problems)
        return out
    out["marketed"] = product.id
    out["formulation"] = product.formulation
    out["product"] = product.ingredients[0] if len(product.ingredients) == 1 else product.id
    count_unit = product.dose_form
    strength = None
    if info is not None and info.strength:
        strength = product.strength(info.strength)
    if strength is None and p.combo is not None:
        strength = product.match(p.combo)
        if strength is None:
            problems.append(f"{'/'.join(fmt(x) for x in p.combo)} is not a strength of "
                            f"{product.name} (" + ", ".join(s.label for s in product.marketed)
                            + ")")
    mass = p.unit is not None and p.unit not in COUNT_UNITS and p.unit != "patch"
    if strength is None and mass and len(product.ingredients) > 1:
        per = p.per_unit if p.counted else p.dose
        top = p.per_unit_max if p.counted else p.dose_max
        if top is not None:
            per = top  # "30-60 mg": the upper end (the worst case)
        hits = [s for s in product.strengths
                if s.components[0].written == per and s.components[0].unit == p.unit]
        if not hits:  # another ingredient's amount ("ACETAMINOPHEN-CODEINE ... 30 MG")
            hits = [s for s in product.strengths
                    if any(c.written == per and c.unit == p.unit for c in s.components[1:])]
        if len(hits) == 1:
            strength = hits[0]
        elif hits:
            # several strengths have that amount: the strongest of them (not of the product:
            # 30 mg codeine is 500/30 at most, never 500/60), said to be assumed
            pool = [s for s in hits if not s.legacy] or hits
            strength = max(pool, key=lambda s: tuple(c.amount for c in s.components))
            if len(pool) > 1:
                out["strength_assumed"] = True
                notes.append(f"strength not stated in full: the strongest {product.name} "
                             f"with {fmt(per or 0)} {p.unit} ({strength.label}) assumed")
        elif per is not None:
            # "Percocet 100 mcg": an amount that is no strength of the product is never
            # dropped for an assumed strength
            problems.append(f"{fmt(per)} {p.unit} is not a strength of {product.name} ("
                            + ", ".join(s.label for s in product.marketed) + ")")
    if len(product.ingredients) == 1 and mass and strength is None:
        # "Amrix 15 mg": the amount is the dose (a count on the line multiplied it already)
        comp = product.strengths[0].components[0]
        k = comp.amount / comp.written if comp.written else 1.0
        lo, hi = _scaled(p.dose, p.dose_max, k)
        written = p.per_unit if p.counted else p.dose
        match = [s for s in product.strengths if s.components[0].written == written]
        out["strength_label"] = match[0].label if match else None
        if comp.salt:
            out["salt"] = comp.salt
        out["ingredients"] = (IngredientDose(comp.ingredient, lo, hi, p.unit),)
        out["assumptions"] = tuple(notes)
        out["problems"] = tuple(problems)
        return out
    if strength is None:
        strength = product.strongest()
        if len(product.marketed) > 1:
            out["strength_assumed"] = True
            notes.append(f"strength not stated: the strongest marketed {product.name} "
                         f"({strength.label}) assumed")
    out["strength_label"] = strength.label
    units: float | None
    units_max: float | None
    if p.count is not None and (p.count_unit is not None or p.counted):
        units, units_max = p.count, p.count_max
    else:
        units, units_max = 1.0, None
        out["units_assumed"] = True
        notes.append(f"no count on the line: 1 {count_unit} a dose assumed")
    out["units"], out["units_max"], out["unit_of_use"] = units, units_max, count_unit
    if p.unit == "each":
        out["unit"] = count_unit  # "Norco 5/325 take 1": one tablet
    out["ingredients"] = tuple(
        IngredientDose(c.ingredient, c.amount * (units or 1.0),
                       None if units_max is None else c.amount * units_max, c.unit)
        for c in strength.components)
    out["assumptions"] = tuple(notes)
    out["problems"] = tuple(problems)
    return out


def read_sig(text: str, lex: Lexicon | Resolve) -> MedicationLine:
    """Read a sig line (never raises: a line that cannot be read has ``error`` set).

    ``lex`` is a :class:`Lexicon` (products, salts and suggestions resolved), or a bare
    name resolver (the line as the grammar reads it)."""
    text = clean_text(text)
    resolve = lex.resolve if isinstance(lex, Lexicon) else lex
    combos = lex.combos if isinstance(lex, Lexicon) else None
    try:
        p = parse_line(text, resolve, combos)
        if isinstance(lex, Lexicon) and unconfirmed_combination(p, lex):
            p = parse_line(text, lex.reference.names().get, combos)
        if isinstance(lex, Lexicon) and p.unparsed and p.unparsed[0] in SALT_WORDS:
            p = _without_salt_word(p, text, lex, combos)
    except SigError as exc:
        return MedicationLine(text=text, error=str(exc), error_part=exc.part)
    return _line(p, text, lex if isinstance(lex, Lexicon) else None)


def _without_salt_word(p: ParsedLine, text: str, lex: Lexicon,
                       combos: Mapping[str, frozenset[tuple[float, ...]]] | None
                       ) -> ParsedLine:
    """``BUPRENORPHINE HYDROCHLORIDE 2 MG``, ``ACETAMINOPHEN-CODEINE PHOSPHATE``: salt words
    right after the name of a drug whose amounts are those of its labeled salt (a drug, not a
    mineral; a salt medref converts, such as naproxen sodium, is a name of its own) or of a
    combination product say nothing more; they are dropped, as the FHIR reader drops them
    after an RxNorm name. After a mineral (``magnesium citrate``) they stay not understood."""
    if p.product is None:
        return p
    ing = lex.kb.ingredients.get(p.product)
    if ing is not None and (ing.amount_basis is not None or ing.kind != "drug"):
        return p
    name, pid, rest = split_name(normalize(text), lex.reference.names().get)
    words = rest.split(" ") if rest else []
    if pid != p.product or not words or words[0] not in SALT_WORDS:
        return p
    while words and words[0] in SALT_WORDS:
        words.pop(0)
    q = parse_line(" ".join([name, *words]), lex.resolve, combos)
    if q.product != p.product:
        return p
    q.text = text
    return q


def unconfirmed_combination(p: ParsedLine, lex: Lexicon) -> bool:
    """True when the line's name is a combination assembled from its ingredients' names
    (:func:`medref.reference.combination_of`: not a name on file) and the line does not
    confirm it: one of its strengths (``10/325``, ``#3``) or, where the names are joined by a
    hyphen or a slash as CDC's product names are (``HYDROCODONE BITARTRATE-ACETAMINOPHEN 10
    MG``), an ingredient's amount in one of them (either end of a range). ``tylenol and
    tramadol q6h`` or ``tylenol and oxycodone 5 mg`` may be two drugs on one line, so it is
    read as before: the first name, the rest not understood. Every reader (sig lines,
    structured items, FHIR) applies it."""
    if p.product is None or p.product not in lex.kb.products or p.name in lex.reference.names():
        return False
    info = lex.reference.name_info(p.name)
    if info is not None and info.strength:
        return False
    product = lex.kb.products[p.product]
    if p.combo is not None:
        return product.match(p.combo) is None
    if _WORD_JOIN.search(p.name) is not None:  # "and", "with", "&", "+": a strength only
        return True
    amounts = {x for x in (p.per_unit, p.per_unit_max) if x is not None} if p.counted else {
        x for x in (p.dose, p.dose_max) if x is not None}
    return not any(c.written in amounts and c.unit == p.unit
                   for st in product.strengths for c in st.components)


_WORD_JOIN = re.compile(r" and | with |[&+]")


def read_structured(item: Mapping[str, object], lex: Lexicon | Resolve, where: str = "",
                    line: int | None = None, *, _assembled: bool = True) -> MedicationLine:
    """Read a structured item (``name``, ``dose``, ``unit``, ``frequency`` ...).

    Raises:
        InputError: a missing field or one of the wrong type (naming the field, and the file
            and line when given).
    """
    for key in item:
        if key not in STRUCTURED_FIELDS:
            raise InputError(f"unknown field (expected {', '.join(sorted(STRUCTURED_FIELDS))})",
                             source=where, line=line, field=str(key))
    sig = item.get("sig")
    if sig is not None:
        if not isinstance(sig, str):
            raise InputError("must be text (a sig line)", source=where, line=line, field="sig")
        return read_sig(sig, lex)
    resolve = lex.resolve if isinstance(lex, Lexicon) else lex
    if isinstance(lex, Lexicon) and not _assembled:
        resolve = lex.reference.names().get
    f = _Fields(item, where, line)
    text = f.render()
    name = f.name
    norm = normalize(name)
    nm, pid, rest = split_name(norm, resolve)
    p = ParsedLine(text=text)
    if not nm or nm[0].isdigit() or (nm[0] == "." and nm[1:2].isdigit()):
        return MedicationLine(text=text, error="no drug or supplement name at the start of "
                              "the line", error_part=norm[:40])
    p.name, p.product = nm, pid
    if isinstance(lex, Lexicon) and pid is not None:
        p.combo_ok = pid in lex.combos
        p.combo_strengths = lex.combos.get(pid, frozenset())
    given: set[str] = set()
    scan_rest(rest, p, resolve)
    for key in ("strength", "form"):
        value = f.text(key)
        if value:
            scan_rest(normalize(value), p, resolve)
    if f.dose is not None:
        unit = UNIT_ALIASES.get(normalize(f.unit or ""))
        if unit is None:
            p.unparsed.append(f.unit or "")
        else:
            written = _exact(f.dose) + (f"-{_exact(f.dose_max)}" if f.dose_max else "")
            problem = add_amount(p, f.dose, f.dose_max, unit, f"{written} {f.unit}")
            if problem:
                p.problems.append(problem)
            given.update(("dose", "dose_max", "unit"))
    for key in ("route", "frequency"):
        value = f.text(key)
        if value:
            scan_rest(normalize(value), p, resolve)
    if f.prn:
        p.prn = True
        given.add("prn")
        if f.prn_reason:
            p.prn_reason = f.prn_reason
            given.add("prn_reason")
    if f.duration_days is not None:
        if p.duration_days is not None or p.duration_doses is not None:
            p.problems.append("a second duration (the duration field)")
        else:
            p.duration_days = f.duration_days
            given.add("duration_days")
    elif f.duration_text:
        scan_rest(normalize(f.duration_text), p, resolve)
    finish(p)
    if _assembled and isinstance(lex, Lexicon) and unconfirmed_combination(p, lex):
        return read_structured(item, lex, where, line, _assembled=False)
    return _line(p, text, lex if isinstance(lex, Lexicon) else None, frozenset(given))


class _Fields:
    """A structured item's fields, validated (each error names its field)."""

    def __init__(self, item: Mapping[str, object], where: str, line: int | None) -> None:
        self.item, self.where, self.lineno = item, where, line
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.error("a name (text) is required", "name")
        self.name = clean_text(name.strip())
        self.dose: float | None = None
        self.dose_max: float | None = None
        self.unit: str | None = None
        if item.get("dose") not in (None, ""):
            self.dose = self.number("dose")
            unit = item.get("unit")
            if not isinstance(unit, str) or not unit.strip():
                raise self.error("a unit is required with a dose", "unit")
            self.unit = unit.strip()
            if item.get("dose_max") not in (None, ""):
                self.dose_max = self.number("dose_max")
        for key in ("strength", "form", "route", "frequency"):
            self.text(key)
        self.prn = self.flag("prn")
        self.prn_reason = self.text("prn_reason") if self.prn else None
        self.duration_days: float | None = None
        self.duration_text: str | None = None
        dur = item.get("duration")
        if dur not in (None, ""):
            if isinstance(dur, bool) or not isinstance(dur, int | float | str):
                raise self.error("duration must be a number of days or text such as '5 days'",
                                 "duration")
            if isinstance(dur, str):
                text = dur.strip()
                try:
                    days = float(text)
                except ValueError:
                    self.duration_text = (text if text.lower().startswith(("x", "for"))
                                          else f"for {text}")
                else:
                    self.duration_days = self._positive_days(days)
            else:
                self.duration_days = self._positive_days(float(dur))

    def error(self, message: str, key: str) -> InputError:
        return InputError(message, source=self.where, line=self.lineno, field=key)

    def _positive_days(self, days: float) -> float:
        if not math.isfinite(days) or days <= 0:
            raise self.error("duration must be a positive number of days", "duration")
        return days

    def number(self, key: str) -> float:
        v = self.item.get(key)
        if isinstance(v, bool):
            raise self.error("must be a number", key)
        if isinstance(v, str):
            try:
                v = float(v.replace(",", "").strip())
            except ValueError:
                raise self.error(f"not a number: {str(self.item.get(key))[:40]!r}",
                                 key) from None
        if isinstance(v, int) and abs(v) > 10**15:
            raise self.error("implausibly large", key)
        if not isinstance(v, int | float) or not math.isfinite(v):
            raise self.error("must be a finite number", key)
        if v <= 0:
            raise self.error("must be above 0", key)
        if v > 1e7:
            raise self.error("implausibly large", key)
        return float(v)

    def text(self, key: str) -> str | None:
        v = self.item.get(key)
        if v in (None, ""):
            return None
        if isinstance(v, int | float) and not isinstance(v, bool):
            if not math.isfinite(v):
                raise self.error("must be a finite number or text", key)
            return fmt(float(v))
        if not isinstance(v, str):
            raise self.error("must be text", key)
        if len(v) > 200:
            raise self.error("longer than 200 characters", key)
        return clean_text(v.strip())

    def flag(self, key: str) -> bool:
        v = self.item.get(key)
        if isinstance(v, str):
            low = v.strip().lower()
            if low not in ("", "yes", "no", "true", "false", "y", "n", "1", "0", "prn"):
                raise self.error("prn must be yes/no or true/false", key)
            return low in ("yes", "true", "y", "1", "prn")
        if v is not None and not isinstance(v, bool):
            raise self.error("prn must be true or false", key)
        return bool(v)

    def render(self) -> str:
        """The sig text the item stands for (shown as the line's input and in messages)."""
        parts = [self.name]
        for key in ("strength", "form"):
            t = self.text(key)
            if t:
                parts.append(t)
        if self.dose is not None:
            parts.append(_exact(self.dose) if self.dose_max is None
                         else f"{_exact(self.dose)}-{_exact(self.dose_max)}")
            parts.append(self.unit or "")
        for key in ("route", "frequency"):
            t = self.text(key)
            if t:
                parts.append(t)
        if self.prn:
            parts.append("prn")
            if self.prn_reason:
                parts.append(self.prn_reason)
        if self.duration_days is not None:
            parts.append(f"for {_exact(self.duration_days)} days")
        elif self.duration_text:
            parts.append(self.duration_text)
        return " ".join(parts)


def _exact(x: float) -> str:
    """A number as text without rounding (a structured dose of 0.0204 mg stays 0.0204)."""
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    text = repr(float(x))
    if "e" in text:  # 1e-06: the same shortest digits, written out positionally
        from decimal import Decimal
        text = format(Decimal(text), "f")
    return text
