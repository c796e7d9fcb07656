"""Full validation of a data set: pydantic models per file, then cross-file rules.

Errors become one :class:`~medref.errors.DataError` whose message names the file, the entry
(id, or index when the id itself is bad) and the field, e.g.::

    data/drugs.json: entry 'ibuprofen': field limits[0].unit: Input should be 'mg', ...
    data/drugs.json: entry 'acetaminophen': field limits[0].amount: must be a number, got a
    string ('4000')
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NoReturn

from pydantic import TypeAdapter, ValidationError

from medref.errors import DataError
from medref.models import Entry, InteractionRule, Policy, Product, Source
from medref.text import normalize
from medref.units import comparable

_ENTRIES = TypeAdapter(list[Entry])
_PRODUCTS = TypeAdapter(list[Product])
_RULES = TypeAdapter(list[InteractionRule])
_SOURCES = TypeAdapter(list[Source])


def _loc_text(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _entry_label(items: Any, index: int) -> str:
    try:
        ident = items[index].get("id")
    except (AttributeError, IndexError, KeyError, TypeError):
        ident = None
    return f"entry {ident!r}" if isinstance(ident, str) and ident else f"entry #{index}"


# pydantic error types that mean "wrong JSON type", and what the field must be instead
_EXPECTED = {
    "float_type": "a number",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "string_type": "a string",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "finite_number": "a finite number",
}

_FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _json_type(value: Any) -> str:
    """How JSON spells the type of a parsed value ("a string", "null" ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _field_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The location without pydantic's union-member tags (``Provenance``, ``constrained-str``)."""
    return tuple(p for p in loc if isinstance(p, int) or _FIELD_NAME.match(p))


def _message(errors: list[Any], loc: tuple[int | str, ...]) -> str:
    """One message for the errors at ``loc`` (several when a union's members all failed)."""
    here = [e for e in errors if _field_loc(tuple(e["loc"])) == loc]
    err = here[0]
    value = err.get("input")
    if all(e["type"] in _EXPECTED for e in here):
        wants = " or ".join(dict.fromkeys(_EXPECTED[e["type"]] for e in here))
        got = _json_type(value)
        if got == "a number" and err["type"] == "float_type":  # an int beyond float range
            return "must be a finite number, got an integer too large to use"
        msg = f"must be {wants}, got {got}"
        if isinstance(value, str | int | float) and got in ("a string", "a number"):
            shown = repr(value)
            if len(shown) <= 60:
                msg = f"{msg} ({shown})"
        return msg
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if err["type"] != "missing":
        shown = "null" if value is None else repr(value)
        if len(shown) <= 60:
            msg = f"{msg} (got {shown})"
    return msg


def _raise(path: Path, data: Any, exc: ValidationError, who: str | None = None) -> None:
    """Raise the DataError for a pydantic error; ``who`` names a single-object file."""
    errors = exc.errors(include_url=False)
    loc = _field_loc(tuple(errors[0]["loc"]))
    msg = _message(errors, loc)
    places = {_field_loc(tuple(e["loc"])) for e in errors}
    more = f" (and {len(places) - 1} more)" if len(places) > 1 else ""
    if who is not None:
        field = _loc_text(loc)
    elif loc and isinstance(loc[0], int):
        who = _entry_label(data, loc[0])
        field = _loc_text(loc[1:])
    else:
        who = "top level"
        field = _loc_text(loc)
    named = _NAMED_FIELD.match(msg)
    if named:  # a cross-field rule names its own field: "limits[0].unit: ..."
        sub = named.group(1)
        field = sub if field == "(top level)" else f"{field}.{sub}"
        msg = msg[: named.start(1)] + msg[named.end(0):]
    entry = who[len("entry "):].strip("'") if who.startswith("entry '") else who
    raise DataError(f"{path}: {who}: field {field}: {msg}{more}", file=str(path),
                    entry=entry, field=field) from None


_NAMED_FIELD = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): ")


def _fail(path: Path, entry: str, field: str, msg: str) -> NoReturn:
    raise DataError(f"{path}: entry {entry!r}: field {field}: {msg}", file=str(path),
                    entry=entry, field=field)


def validate_raw(raw: dict[str, Any], base: Path) -> None:
    """Validate every file of a data set.

    Raises:
        DataError: naming the file, entry and field of the first problem found.
    """
    sources_path = base / "sources.json"
    try:
        sources = _SOURCES.validate_python(raw["sources.json"])
    except ValidationError as exc:
        _raise(sources_path, raw["sources.json"], exc)
    source_ids: set[str] = set()
    for s in sources:
        if s.id in source_ids:
            _fail(sources_path, s.id, "id", "duplicate source id")
        source_ids.add(s.id)

    entries: list[tuple[str, Entry]] = []
    for fname in ("drugs.json", "supplements.json", "watch.json"):
        path = base / fname
        try:
            items = _ENTRIES.validate_python(raw[fname])
        except ValidationError as exc:
            _raise(path, raw[fname], exc)
        entries.extend((fname, e) for e in items)
        for e in items:
            kind_ok = (e.kind.value == "supplement") == (fname == "supplements.json")
            if fname == "watch.json":
                kind_ok = e.kind.value == "watch"
            if not kind_ok:
                _fail(path, e.id, "kind", f"{e.kind.value!r} does not belong in {fname}")

    seen_ids: dict[str, str] = {}
    names: dict[str, tuple[str, str]] = {}
    for fname, e in entries:
        path = base / fname
        if e.id in seen_ids:
            _fail(path, e.id, "id", f"duplicate id (also in {seen_ids[e.id]})")
        seen_ids[e.id] = fname
    for fname, e in entries:
        path = base / fname
        keys = {normalize(e.id), normalize(e.id.replace("-", " "))}
        for i, alias in enumerate(e.aliases):
            k = normalize(alias)
            if not k:
                _fail(path, e.id, f"aliases[{i}]", "empty alias")
            if k in names and names[k][0] != e.id:
                other, ofile = names[k]
                _fail(path, e.id, f"aliases[{i}]",
                      f"alias {alias!r} is also used by {other!r} ({ofile})")
            if k in keys:
                continue
            names[k] = (e.id, fname)
        for k in keys:
            if k in names and names[k][0] != e.id:
                _fail(path, e.id, "id", f"id collides with an alias of {names[k][0]!r}")
            names[k] = (e.id, fname)
        for field, ids in _source_refs(e):
            for sid in ids:
                if sid not in source_ids:
                    _fail(path, e.id, field, f"unknown source {sid!r} (not in sources.json)")

    for fname, e in entries:
        for i, lim in enumerate(e.limits):
            _policy_severity(base / fname, e.id, i, lim)
        for i, salt in enumerate(e.salts):
            for j, name in enumerate(salt.names):
                k = normalize(name)
                if k in names and names[k][0] != e.id:
                    _fail(base / fname, e.id, f"salts[{i}].names[{j}]",
                          f"name {name!r} is also used by {names[k][0]!r} ({names[k][1]})")
                names[k] = (e.id, fname)
    _validate_products(raw.get("products.json", []), base, dict(entries_by_id(entries)),
                       names, source_ids)

    rules_path = base / "interactions.json"
    try:
        rules = _RULES.validate_python(raw["interactions.json"])
    except ValidationError as exc:
        _raise(rules_path, raw["interactions.json"], exc)
    rule_ids: set[str] = set()
    for r in rules:
        if r.id in rule_ids:
            _fail(rules_path, r.id, "id", "duplicate rule id")
        rule_ids.add(r.id)
        for field in ("a", "b", "members", "requires"):
            for sel in getattr(r, field):
                if not sel.startswith("class:") and sel not in seen_ids:
                    _fail(rules_path, r.id, field, f"unknown id {sel!r}")
        for sid in r.sources:
            if sid not in source_ids:
                _fail(rules_path, r.id, "sources", f"unknown source {sid!r}")
        if r.dose_cap is not None:
            _check_cap(rules_path, r, dict(entries_by_id(entries)))
        if r.category == "administration" and r.severity.value == "error":
            _fail(rules_path, r.id, "severity", "a timing rule is at most a warning (alert "
                  "policy: only a contraindication or a hard limit is an error)")

    policy_path = base / "policy.json"
    try:
        policy = Policy.model_validate(raw["policy.json"])
    except ValidationError as exc:
        _raise(policy_path, raw["policy.json"], exc, who="entry 'policy'")
    for name, item in policy:
        for sid in getattr(item, "sources", ()):
            if sid not in source_ids:
                _fail(policy_path, "policy", f"{name}.sources", f"unknown source {sid!r}")


def _check_cap(path: Path, rule: InteractionRule, entries: dict[str, Entry]) -> None:
    """A dose cap's unit must compare with the unit each capped drug is dosed in."""
    cap = rule.dose_cap
    assert cap is not None
    for sel in rule.a:
        e = entries.get(sel)
        if e is None:
            continue  # an unknown id is reported by the selector check
        unit = e.typical.unit if e.typical is not None else next(
            (lim.unit for lim in e.limits if lim.unit is not None), None)
        iu = e.iu_per_mcg.value if e.iu_per_mcg is not None else None
        if unit is None or not comparable(cap.unit.value, unit.value,
                                          iu if isinstance(iu, float | int) else None):
            _fail(path, rule.id, "dose_cap.unit",
                  f"{cap.unit.value!r} does not compare with the unit {sel!r} is dosed in "
                  f"({unit.value if unit is not None else 'none'!r})")


def entries_by_id(entries: list[tuple[str, Entry]]) -> list[tuple[str, Entry]]:
    """(id, entry) pairs."""
    return [(e.id, e) for _, e in entries]


def _validate_products(data: Any, base: Path, entries: dict[str, Entry],
                       names: dict[str, tuple[str, str]], source_ids: set[str]) -> None:
    """products.json: the models, then ids, names, ingredients, units and sources."""
    path = base / "products.json"
    try:
        products = _PRODUCTS.validate_python(data)
    except ValidationError as exc:
        _raise(path, data, exc)
    ids: set[str] = set()
    from medref.units import comparable
    for p in products:
        if p.id in ids or p.id in entries:
            _fail(path, p.id, "id", "duplicate id (a product or an entry has it)")
        ids.add(p.id)
        own = {normalize(p.id), normalize(p.id.replace("-", " "))}
        spelled = [("name", p.name), *((f"aliases[{i}]", a) for i, a in enumerate(p.aliases)),
                   *((f"named_strengths[{i}].name", n.name)
                     for i, n in enumerate(p.named_strengths))]
        for field, name in spelled:
            k = normalize(name)
            if not k:
                _fail(path, p.id, field, "empty name")
            if k in names and names[k][0] != p.id:
                _fail(path, p.id, field, f"name {name!r} is also used by {names[k][0]!r} "
                      f"({names[k][1]})")
            names[k] = (p.id, "products.json")
        for k in own:
            if k in names and names[k][0] != p.id:
                _fail(path, p.id, "id", f"id collides with a name of {names[k][0]!r}")
            names[k] = (p.id, "products.json")
        for i, ing in enumerate(p.ingredients):
            if ing not in entries:
                _fail(path, p.id, f"ingredients[{i}]", f"unknown ingredient {ing!r}")
        for i, st in enumerate(p.strengths):
            for j, c in enumerate(st.components):
                e = entries[c.ingredient]
                target = e.typical.unit.value if e.typical else next(
                    (lim.unit.value for lim in e.limits if lim.unit), None)
                iu = e.iu_per_mcg.value if e.iu_per_mcg else None
                if target is not None and not comparable(c.unit.value, target, iu):
                    _fail(path, p.id, f"strengths[{i}].components[{j}].unit",
                          f"{c.unit.value!r} cannot be compared with {c.ingredient}'s "
                          f"{target!r}")
            for sid in st.sources:
                if sid not in source_ids:
                    _fail(path, p.id, f"strengths[{i}].sources", f"unknown source {sid!r}")
        for sid in p.sources:
            if sid not in source_ids:
                _fail(path, p.id, "sources", f"unknown source {sid!r}")


def _policy_severity(path: Path, entry: str, i: int, lim: Any) -> None:
    """The alert policy's limits on a limit's severity (docs/ALERT-POLICY.md): a hard daily
    maximum or course is a warning or an error, an upper intake level a warning."""
    sev = lim.severity.value
    kind = lim.kind.value
    qualified = lim.when is not None and lim.when.qualified
    if kind == "upper-intake" and sev != "warning":
        _fail(path, entry, f"limits[{i}].severity", "an upper intake level is a warning "
              "(alert policy)")
    if kind in ("period", "course") and lim.when is None and sev == "info":
        _fail(path, entry, f"limits[{i}].severity", f"a default {kind} limit is a warning or "
              "an error (alert policy); an alternative by indication, formulation or first day "
              "goes in 'when'")
    if qualified and sev == "error":
        _fail(path, entry, f"limits[{i}].severity", "an alternative by indication, formulation "
              "or first day is reported as info, never an error (alert policy): set severity "
              "info")


def _source_refs(e: Entry) -> list[tuple[str, tuple[str, ...]]]:
    refs: list[tuple[str, tuple[str, ...]]] = [("sources", e.sources)]
    if e.typical is not None:
        refs.append(("typical.sources", e.typical.sources))
    refs.extend((f"limits[{i}].sources", lim.sources) for i, lim in enumerate(e.limits))
    refs.extend((f"context_rules[{i}].sources", r.sources)
                for i, r in enumerate(e.context_rules))
    refs.append(("bone_healing.sources", e.bone_healing.sources))
    for name in ("iu_per_mcg", "elemental_fraction", "mme_factor", "rxcui"):
        v = getattr(e, name)
        if v is not None:
            refs.append((f"{name}.sources", v.sources))
    for i, n in enumerate(e.notes):
        if not isinstance(n, str):
            refs.append((f"notes[{i}].sources", n.sources))
    refs.extend((f"salts[{i}].sources", salt.sources) for i, salt in enumerate(e.salts))
    return refs


def validate_rxnorm(data: Any, path: Path, sources: set[str]) -> list[dict[str, Any]]:
    """``rxnorm.json``: ``{"version", "codes": [{"rxcui", "name", "sources", "verified"}]}``,
    each code once, each source known. Returns the codes.

    Raises:
        DataError: naming the file, the code and the field.
    """
    if not isinstance(data, dict) or not isinstance(data.get("codes"), list):
        _fail(path, "top level", "codes", "must be an object with a 'codes' list")
    seen: set[str] = set()
    out: list[dict[str, Any]] = data["codes"]
    for i, c in enumerate(out):
        who = f"codes[{i}]"
        if not isinstance(c, dict):
            _fail(path, who, "(entry)", "must be an object")
        rx = c.get("rxcui")
        if not isinstance(rx, str) or not re.fullmatch(r"\d{1,9}", rx):
            _fail(path, who, "rxcui", "must be a string of 1-9 digits")
        who = str(rx)
        for key in c:
            if key not in ("rxcui", "name", "sources", "verified", "note", "tty"):
                _fail(path, who, str(key), "unknown field")
        if rx in seen:
            _fail(path, who, "rxcui", "listed twice")
        seen.add(rx)
        name = c.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 300:
            _fail(path, who, "name", "must be non-empty text (at most 300 characters)")
        srcs = c.get("sources")
        if not isinstance(srcs, list) or not srcs or not all(isinstance(s, str) for s in srcs):
            _fail(path, who, "sources", "must be a non-empty list of source ids")
        unknown = [s for s in srcs if s not in sources]
        if unknown:
            _fail(path, who, "sources", f"unknown source {unknown[0]!r} (not in sources.json)")
        if not isinstance(c.get("verified"), bool):
            _fail(path, who, "verified", "must be true or false")
    return out


NDC_UNITS = ("MG", "MCG", "MG/ML", "MCG/HR", "MCG/SPRAY", "")


def validate_ndc(data: Any, path: Path, sources: set[str]) -> tuple[list[dict[str, Any]],
                                                                    dict[str, int]]:
    """``ndc.json``: ``{"version", "source", "products": [...], "ndc": {code: row}}``: the
    source known, each product row typed, each NDC 11 digits naming a row. Returns (products,
    ndc map).

    Raises:
        DataError: naming the file, the product row or NDC, and the field.
    """
    if not isinstance(data, dict):
        _fail(path, "top level", "(file)", "must be an object")
    if data.get("source") not in sources:
        _fail(path, "top level", "source", f"unknown source {data.get('source')!r} (not in "
              "sources.json)")
    products = data.get("products")
    if not isinstance(products, list) or not products:
        _fail(path, "top level", "products", "must be a non-empty list")
    for i, pr in enumerate(products):
        who = f"products[{i}]"
        if not isinstance(pr, dict):
            _fail(path, who, "(entry)", "must be an object")
        for key in ("name", "generic", "form", "acting", "drug", "unit", "sheet"):
            if not isinstance(pr.get(key), str):
                _fail(path, who, key, "must be text")
        if not pr["generic"].strip():
            _fail(path, who, "generic", "must name the ingredients")
        st = pr.get("strength")
        if st is not None and (isinstance(st, bool) or not isinstance(st, int | float)
                               or not 0 < st < 1e6):
            _fail(path, who, "strength", "must be a number above 0, or null")
        if pr["unit"] not in NDC_UNITS:
            _fail(path, who, "unit", "must be one of " + ", ".join(NDC_UNITS[:-1])
                  + " or empty")
    codes = data.get("ndc")
    if not isinstance(codes, dict) or not codes:
        _fail(path, "top level", "ndc", "must be a non-empty object")
    for code, row in codes.items():
        if not re.fullmatch(r"\d{11}", code):
            _fail(path, f"ndc {code}", "ndc", "must be 11 digits (5-4-2, no hyphens)")
        if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row < len(products):
            _fail(path, f"ndc {code}", "row", f"must be a product row 0-{len(products) - 1}")
    return products, codes
