"""A record object (a decoded JSON value) checked for shape: ``{"id", "items", "context"}``."""

from __future__ import annotations

import math
from collections.abc import Mapping

from medref.context import Context, context_from_raw
from medref.readers.fhir_detect import is_fhir
from medref.regimen import Record
from medref.text import clean_text


def record_from_obj(obj: object, line: int) -> Record:
    """Validate one decoded record object (``{"id", "items", "context"}``): a :class:`Record`,
    with ``error`` set when it cannot be read."""
    if obj.__class__ is dict:  # the usual record: an ASCII id, sig lines, no context
        rid, items = obj.get("id"), obj.get("items")
        if (len(obj) == 2 and rid.__class__ is str and rid.isascii()
                and items.__class__ is list and items
                and all(it.__class__ is str for it in items)):
            return Record(rid, items, None, line)
    if not isinstance(obj, Mapping):
        return Record(None, [], line=line, error="a record must be a JSON object")
    if ("resourceType" in obj or "hook" in obj) and is_fhir(obj):
        from medref.readers.fhir import fhir_record
        rec = fhir_record(obj, line)
        if rec.error is None and not rec.items:
            return rec._replace(error="no medication to check in the FHIR input")
        return rec
    rid = obj.get("id")
    if isinstance(rid, dict | list):
        return Record(None, [], line=line, error="field 'id': must be a string or number")
    if isinstance(rid, str):
        rid = clean_text(rid)
    elif isinstance(rid, int) and not isinstance(rid, bool) and abs(rid) > 10**18:
        return Record(None, [], line=line, error="field 'id': number too large")
    elif isinstance(rid, float) and not math.isfinite(rid):
        return Record(None, [], line=line, error="field 'id': must be a finite number")
    for k in obj:
        if k not in ("id", "items", "context"):
            return Record(rid, [], line=line, error=f"field {k!r}: unknown (expected id, "
                          "items, context)")
    items = obj.get("items")
    if not isinstance(items, list):
        return Record(rid, [], line=line, error="field 'items': must be a list")
    if not items:
        return Record(rid, [], line=line, error="field 'items': empty regimen")
    for i, it in enumerate(items):
        if it.__class__ is not str and not isinstance(it, str | Mapping):
            return Record(rid, [], line=line,
                          error=f"field 'items[{i}]': must be a string or an object")
    raw = obj.get("context")
    if raw is not None and not isinstance(raw, Mapping):
        return Record(rid, [], line=line, error="field 'context': must be an object")
    try:
        ctx = _context(raw)
    except ValueError as exc:
        return Record(rid, [], line=line, error=str(exc))
    return Record(rid, items, ctx, line)


_CONTEXTS: dict[tuple[object, ...], Context | None] = {}
_CONTEXTS_MAX = 1_024
_PLAIN = (str, int, bool)


def _context(raw: Mapping[str, object] | None) -> Context | None:
    """:func:`~medref.context.context_from_raw`, remembered (up to 1,024, then forgotten at
    once) for raw contexts of strings, whole numbers, booleans and nulls: a file repeats a few
    contexts (``{"age": 70}``), and records with the same one share one object (a context is
    immutable)."""
    if not raw:
        return None
    key: list[object] = []
    for k, v in raw.items():
        if v is not None and v.__class__ not in _PLAIN:
            return context_from_raw(raw)  # a float or anything else: read every time
        key += (k, v.__class__, v)  # the class too: 1 and True are equal keys
    tkey = tuple(key)
    if tkey in _CONTEXTS:
        return _CONTEXTS[tkey]
    ctx = context_from_raw(raw)  # raises for an invalid value: not remembered
    if len(_CONTEXTS) >= _CONTEXTS_MAX:
        _CONTEXTS.clear()
    _CONTEXTS[tkey] = ctx
    return ctx
