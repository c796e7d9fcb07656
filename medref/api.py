"""The library: :func:`check` one regimen, :func:`check_many` many.

Both read items with the same readers, apply the one context rule (the input's own context
wins; ``context=`` fills what it leaves unset, :mod:`medref.context`) and run the same engine
as ``medref check`` and ``medref batch``, so every door gives the same findings.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from medref.context import Context, as_context, merge, sources
from medref.engine import Assessment, Engine
from medref.errors import InputError, MedrefError
from medref.readers.records import record_from_obj
from medref.reference import Reference, load_reference
from medref.regimen import FhirInfo, Record
from medref.render.json import JsonWriter, dumps
from medref.result import CheckResult, build_result

ContextLike = Context | Mapping[str, Any] | None
"""A :class:`Context`, a mapping of its fields (``{"age": 70}``), or None."""


@functools.lru_cache(maxsize=8)
def engine_for(reference: Reference) -> Engine:
    """The shared engine (and its caches) for a reference."""
    return Engine(reference)


def _context(value: ContextLike) -> Context | None:
    try:
        return as_context(value)
    except ValueError as exc:
        raise InputError(str(exc).partition(": ")[2] or str(exc), field=_field(str(exc))
                         ) from None


def _field(message: str) -> str:
    """``context.age`` from ``field 'context.age': ...``."""
    if message.startswith("field '"):
        return message[len("field '"):].partition("'")[0]
    return "context"


def check(items: Iterable[object], context: ContextLike = None, *,
          reference: Reference | None = None, source: str = "",
          line_numbers: Sequence[int] | None = None,
          input_context: ContextLike = None, fhir: FhirInfo | None = None) -> CheckResult:
    """Check a regimen: every dose and limit, then the regimen-wide rules.

    Args:
        items: sig lines (``"ibuprofen 800 mg po tid"``) or structured items
            (``{"name": "ibuprofen", "dose": 800, "unit": "mg", "frequency": "tid"}``).
        context: patient context: a :class:`Context` or a mapping of its fields (``{"age":
            70}``). It fills what ``input_context`` leaves unset.
        reference: the reference to check against; default the bundled data.
        source: where the items came from (a file name), used in error messages.
        line_numbers: the file line of each item, used in error messages.
        input_context: the context that came with the items themselves (a file's or a
            record's own); its values win over ``context``.
        fhir: what a FHIR input held beyond its items (:attr:`Record.fhir`), reported in
            ``summary.fhir``.

    Returns:
        A :class:`CheckResult`: one item per input in input order, and the findings sorted
        most severe first.

    Raises:
        InputError: a structured item has a missing or wrongly typed field, or a context value
            is invalid.
        TypeError: ``items`` is a single string or mapping instead of a list of them.
    """
    if isinstance(items, str | bytes | Mapping):
        raise TypeError("items must be a list of sig lines or structured items, not a single "
                        f"{type(items).__name__} (wrap one line in a list)")
    ref = reference if reference is not None else load_reference()
    own, options = _context(input_context), _context(context)
    ctx = merge(own, options)
    a = engine_for(ref).assess(list(items), ctx, source=source, item_lines=line_numbers)
    return build_result(ref, a, sources(own, options), fhir)


def check_fhir(document: Mapping[str, Any], context: ContextLike = None, *,
               reference: Reference | None = None) -> CheckResult:
    """Check a FHIR R4 document: a MedicationRequest or MedicationStatement, a Bundle of them,
    or a CDS Hooks request (its ``draftOrders`` and prefetch).

    The patient context it carries (age from the Patient, weight and renal function from
    Observations) wins over ``context``. Stopped, cancelled, entered-in-error, completed and
    negated resources are not checked; ``summary.fhir`` lists them with the reason.

    Raises:
        InputError: the document cannot be read as FHIR.
    """
    from medref.readers.fhir import fhir_record
    rec = fhir_record(document)
    if rec.error is not None:
        raise InputError(rec.error, field="fhir")
    return check(rec.items, context, reference=reference, input_context=rec.context,
                 fhir=rec.fhir)


class RecordResult(NamedTuple):
    """The outcome of one record: a check result, or the reason it could not be read.

    Attributes:
        id: the record's id (None when it could not be read).
        line: 1-based line number of the record in its input.
        result: the check result, or None when ``error`` is set.
        error: one-line reason the record could not be read, else None.
    """

    id: Any
    line: int
    result: CheckResult | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The batch output object (a public contract)."""
        if self.result is None:
            return {"id": self.id, "line": self.line, "error": self.error}
        return {"id": self.id, "findings": [f.to_dict() for f in self.result.findings],
                "summary": self.result.summary.to_dict()}

    def to_json(self) -> str:
        """One JSONL line (no newline), as ``medref batch`` writes it."""
        return dumps(self.to_dict())


def assess_record(engine: Engine, rec: Record, options: Context | None
                  ) -> tuple[Assessment, dict[str, str | None]] | str:
    """Check one readable record: the assessment and the context sources (shared between
    records: read them, or copy them as :func:`medref.result.build_result` does), or a
    one-line reason it failed."""
    try:
        ctx, srcs = _merged(rec.context, options)
        return engine.assess(rec.items, ctx, item_lines=rec.item_lines), srcs
    except MedrefError as exc:
        return str(exc).splitlines()[0]
    except RecursionError:
        return "record nested too deeply"


_MERGED: dict[tuple[int, int], tuple[Context | None, Context | None, Context,
                                      dict[str, str | None]]] = {}
_MERGED_MAX = 256


def _merged(own: Context | None, options: Context | None
           ) -> tuple[Context, dict[str, str | None]]:
    """:func:`~medref.context.merge` and :func:`~medref.context.sources` of a record's own
    context and the caller's options, remembered for the last few pairs of objects (a batch
    passes the same few objects again and again: no context, or one read from the same text,
    see :func:`medref.readers.records.record_from_obj`). The sources dict is shared: copy it
    before handing it on."""
    key = (id(own), id(options))
    hit = _MERGED.get(key)
    if hit is not None and hit[0] is own and hit[1] is options:  # the objects, alive in it
        return hit[2], hit[3]
    ctx, srcs = merge(own, options), sources(own, options)
    if len(_MERGED) >= _MERGED_MAX:
        _MERGED.clear()
    _MERGED[key] = (own, options, ctx, srcs)
    return ctx, srcs


def check_record(rec: Record, reference: Reference | None = None,
                 context: ContextLike = None) -> RecordResult:
    """Check one record; a record that cannot be read gives a result with ``error`` set."""
    ref = reference if reference is not None else load_reference()
    if rec.error is not None:
        return RecordResult(rec.id, rec.line, error=rec.error)
    got = assess_record(engine_for(ref), rec, _context(context))
    if isinstance(got, str):
        return RecordResult(rec.id, rec.line, error=got)
    a, srcs = got
    return RecordResult(rec.id, rec.line, build_result(ref, a, srcs, rec.fhir))


def check_many(records: Iterable[Record | Mapping[str, Any] | list[Any]], *,
               context: ContextLike = None, reference: Reference | None = None
               ) -> Iterator[RecordResult]:
    """Check many regimens lazily, in order; the same results as one check per record.

    Args:
        records: :class:`~medref.regimen.Record` objects, mappings ``{"id", "items",
            "context"}``, or plain lists of items (their id is their position).
        context: patient context for every record (a :class:`Context` or a mapping): a
            record's own context values win, and the values it leaves unset are taken from
            this.
        reference: the reference; default the bundled data.
    """
    ref = reference if reference is not None else load_reference()
    options = _context(context)
    for n, rec in enumerate(records, 1):
        if isinstance(rec, Record):
            r = rec
        elif isinstance(rec, list):
            r = Record(n - 1, rec, None, n)
        else:
            r = record_from_obj(rec, n)
        yield check_record(r, ref, options)


def json_writer(reference: Reference) -> JsonWriter:
    """A serializer for results checked against ``reference``."""
    return JsonWriter(reference)
