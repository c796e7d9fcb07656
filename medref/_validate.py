"""Full validation of a data set: pydantic models per file, then cross-file rules.

Errors become one :class:`~medref.errors.DataError` whose message names the file, the entry
(id, or index when the id itself is bad) and the field, e.g.::

    data/drugs.json: entry 'ibuprofen': field limits[0].unit: Input should be 'mg', ...
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from medref.errors import DataError
from medref.models import Entry, InteractionRule, Policy, Source
from medref.sig import normalize

_ENTRIES = TypeAdapter(list[Entry])
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


def _raise(path: Path, data: Any, exc: ValidationError) -> None:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    msg = err["msg"]
    if err.get("input") is not None and err["type"] not in ("missing",):
        shown = repr(err["input"])
        if len(shown) <= 60:
            msg = f"{msg} (got {shown})"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    if loc and isinstance(loc[0], int):
        who = _entry_label(data, loc[0])
        field = _loc_text(loc[1:])
    else:
        who = "top level"
        field = _loc_text(loc)
    named = _NAMED_FIELD.match(msg)
    if named:  # a cross-field rule names its own field: "Value error, limits[0].unit: ..."
        sub = named.group(1)
        field = sub if field == "(top level)" else f"{field}.{sub}"
        msg = msg[: named.start(1)] + msg[named.end(0):]
    entry = who[len("entry "):].strip("'") if who.startswith("entry '") else who
    raise DataError(f"{path}: {who}: field {field}: {msg}{more}", file=str(path),
                    entry=entry, field=field) from None


_NAMED_FIELD = re.compile(r"^(?:Value error, )?([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): ")


def _fail(path: Path, entry: str, field: str, msg: str) -> None:
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
    source_ids = {s.id for s in sources}
    if len(source_ids) != len(sources):
        _fail(sources_path, "?", "id", "duplicate source id")

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

    policy_path = base / "policy.json"
    try:
        policy = Policy.model_validate(raw["policy.json"])
    except ValidationError as exc:
        loc = tuple(exc.errors()[0]["loc"])
        field = _loc_text(loc)
        raise DataError(f"{policy_path}: entry 'policy': field {field}: "
                        f"{exc.errors(include_url=False)[0]['msg']}", file=str(policy_path),
                        entry="policy", field=field) from None
    for name, item in policy:
        for sid in getattr(item, "sources", ()):
            if sid not in source_ids:
                _fail(policy_path, "policy", f"{name}.sources", f"unknown source {sid!r}")


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
    return refs
