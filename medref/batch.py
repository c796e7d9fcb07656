"""Batch screening: many regimens, streamed, in order, with nothing lost.

Library: :func:`check_many` yields one :class:`RecordResult` per record, lazily, identical to
one :func:`medref.check` per record. Input readers (:func:`read_jsonl`, :func:`read_csv`)
never stop at a bad record: it becomes a result with ``error`` set.

CLI: ``medref batch INPUT [-o OUT] [--jobs N]`` writes JSONL in input order; ``--jobs`` spreads
chunks of records over processes with a bounded number in flight, so memory stays flat.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from medref.engine import check, clean_text
from medref.errors import MedrefError
from medref.reference import Reference, load_reference
from medref.result import CheckResult, Context, Finding

MAX_RECORD_CHARS = 1_000_000
"""A JSONL record longer than this is reported as an error without being parsed."""

_CONTEXT_KEYS = ("age", "crcl", "hepatic_impairment", "weeks_since_surgery")


@dataclass(frozen=True, slots=True)
class RecordResult:
    """The outcome of one batch record: a check result, or the reason it could not be read.

    Attributes:
        id: the record's id (None when it could not be read).
        line: 1-based line number of the record in the input.
        result: the check result, or None when ``error`` is set.
        error: one-line reason the record could not be read, else None.
    """

    id: Any
    line: int
    result: CheckResult | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSONL output object (a public contract)."""
        if self.result is None:
            return {"id": self.id, "line": self.line, "error": self.error}
        return {"id": self.id, "findings": [f.to_dict() for f in self.result.findings],
                "summary": self.result.summary.to_dict()}

    def to_json(self) -> str:
        """One JSONL line (no newline); equal to ``json.dumps(self.to_dict())`` compacted."""
        if self.result is None:
            return _dumps(self.to_dict())
        findings = ",".join([_finding_json(f) for f in self.result.findings])
        return (f'{{"id":{_dumps(self.id)},"findings":[{findings}],'
                f'"summary":{_dumps(self.result.summary.to_dict())}}}')


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


_FINDING_JSON: dict[Finding, str] = {}


def _finding_json(f: Finding) -> str:
    """A finding's compact JSON, memoised: the same finding recurs across many records."""
    text = _FINDING_JSON.get(f)
    if text is None:
        text = _dumps(f.to_dict())
        if len(_FINDING_JSON) >= 20_000:
            _FINDING_JSON.clear()
        _FINDING_JSON[f] = text
    return text


@dataclass(frozen=True, slots=True)
class Record:
    """One regimen to check: an id, its items and optional context (a batch input record)."""

    id: Any
    items: list[Any]
    context: Context | None = None
    line: int = 0
    error: str | None = None


def context_from(raw: Any, default: Context | None = None) -> Context:
    """Build a :class:`Context` from a record's ``context`` object over ``default``.

    Raises:
        ValueError: an unknown key or a value of the wrong type (message names the field).
    """
    base = default or Context()
    if raw is None:
        return base
    if not isinstance(raw, Mapping):
        raise ValueError("field 'context': must be an object")
    vals: dict[str, Any] = {k: getattr(base, k) for k in _CONTEXT_KEYS}
    for k, v in raw.items():
        if k not in _CONTEXT_KEYS:
            raise ValueError(f"field 'context.{k}': unknown (expected {', '.join(_CONTEXT_KEYS)})")
        if v is None or v == "":
            continue
        if k == "hepatic_impairment":
            if isinstance(v, str) and v.lower() in ("true", "yes", "1", "false", "no", "0"):
                v = v.lower() in ("true", "yes", "1")
            if not isinstance(v, bool):
                raise ValueError(f"field 'context.{k}': must be true or false")
        else:
            if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 10**6:
                raise ValueError(f"field 'context.{k}': out of range")
            if isinstance(v, str):
                try:
                    v = float(v)
                except ValueError:
                    raise ValueError(f"field 'context.{k}': not a number") from None
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"field 'context.{k}': must be a number")
            top = {"age": 130, "crcl": 250, "weeks_since_surgery": 520}[k]
            if not 0 <= v <= top:
                raise ValueError(f"field 'context.{k}': out of range 0-{top}")
            if k == "age":
                v = int(v)
        vals[k] = v
    return Context(**vals)


def record_from_obj(obj: Any, line: int, default: Context | None = None) -> Record:
    """Validate one decoded record object (``{"id", "items", "context"}``)."""
    if not isinstance(obj, Mapping):
        return Record(None, [], line=line, error="a record must be a JSON object")
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
        if not isinstance(it, str | Mapping):
            return Record(rid, [], line=line,
                          error=f"field 'items[{i}]': must be a string or an object")
    try:
        ctx = context_from(obj.get("context"), default)
    except ValueError as exc:
        return Record(rid, [], line=line, error=str(exc))
    return Record(rid, items, ctx, line)


def read_jsonl(stream: Iterable[str], default: Context | None = None) -> Iterator[Record]:
    """Records from JSONL text lines; blank lines are skipped, bad lines become errors."""
    for n, text in enumerate(stream, 1):
        if len(text) > MAX_RECORD_CHARS:
            yield Record(None, [], line=n, error=f"record longer than {MAX_RECORD_CHARS:,} "
                         "characters")
            continue
        if not text.strip():
            continue
        if _BAD_BYTES.search(text):
            yield Record(None, [], line=n, error="not valid UTF-8 text")
            continue
        try:
            obj = json.loads(text)
        except ValueError as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            yield Record(None, [], line=n, error=f"invalid JSON: {msg}")
            continue
        except RecursionError:
            yield Record(None, [], line=n, error="invalid JSON: nested too deeply")
            continue
        yield record_from_obj(obj, n, default)


_BAD_BYTES = re.compile("[\udc80-\udcff]")


_CSV_ITEM = ("sig", "name", "dose", "dose_max", "unit", "frequency", "route", "prn",
             "prn_reason", "duration", "strength", "form")


def read_csv(stream: TextIO, default: Context | None = None) -> Iterator[Record]:
    """Records from CSV rows grouped by consecutive ``id`` (one row per item).

    Columns: ``id`` plus either ``sig`` or ``name``/``dose``/``unit``/``frequency`` (and the
    optional item fields); context columns ``age``, ``crcl``, ``hepatic_impairment``,
    ``weeks_since_surgery`` are read from a record's first row.
    """
    reader = csv.reader(stream)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        yield Record(None, [], line=1, error=f"malformed CSV header: {exc}")
        return
    bad = [h for h in header if h not in ("id", *_CSV_ITEM, *_CONTEXT_KEYS)]
    if "id" not in header or bad or not ({"sig", "name"} & set(header)):
        why = (f"unknown column {bad[0]!r}" if bad else "needs an 'id' column and 'sig' or "
               "'name' columns")
        yield Record(None, [], line=1, error=f"CSV header: {why}")
        return
    cur_id: Any = object()
    items: list[Any] = []
    ctx_raw: dict[str, Any] = {}
    first_line = 0
    error: str | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if items or error:
                yield _csv_record(cur_id, items, ctx_raw, first_line, error, default)
                items, ctx_raw, error = [], {}, None
                cur_id = object()
            yield Record(None, [], line=reader.line_num, error=f"malformed CSV: {exc}")
            continue
        n = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            err = f"expected {len(header)} fields, got {len(row)}"
            if items or error:
                yield _csv_record(cur_id, items, ctx_raw, first_line, error, default)
                items, ctx_raw, error = [], {}, None
                cur_id = object()
            yield Record(None, [], line=n, error=err)
            continue
        fields = dict(zip(header, (c.strip() for c in row), strict=True))
        rid = fields.get("id", "")
        if rid != cur_id:
            if items or error:
                yield _csv_record(cur_id, items, ctx_raw, first_line, error, default)
            cur_id, items, error, first_line = rid, [], None, n
            ctx_raw = {k: fields[k] for k in _CONTEXT_KEYS if fields.get(k)}
        item = {k: v for k, v in fields.items() if k in _CSV_ITEM and v}
        if not item:
            error = error or f"line {n}: no item fields"
            continue
        items.append(item["sig"] if set(item) == {"sig"} else item)
    if items or error:
        yield _csv_record(cur_id, items, ctx_raw, first_line, error, default)


def _csv_record(rid: Any, items: list[Any], ctx_raw: dict[str, Any], line: int,
                error: str | None, default: Context | None) -> Record:
    if error:
        return Record(rid, [], line=line, error=error)
    try:
        ctx = context_from(ctx_raw, default)
    except ValueError as exc:
        return Record(rid, [], line=line, error=str(exc))
    return Record(rid, items, ctx, line)


def check_record(rec: Record, reference: Reference) -> RecordResult:
    """Check one record; a record that cannot be read gives a result with ``error`` set."""
    if rec.error is not None:
        return RecordResult(rec.id, rec.line, error=rec.error)
    try:
        return RecordResult(rec.id, rec.line, check(rec.items, rec.context,
                                                    reference=reference))
    except MedrefError as exc:
        return RecordResult(rec.id, rec.line, error=str(exc).splitlines()[0])
    except RecursionError:
        return RecordResult(rec.id, rec.line, error="record nested too deeply")


def check_many(records: Iterable[Record | Mapping[str, Any] | list[Any]], *,
               context: Context | None = None, reference: Reference | None = None
               ) -> Iterator[RecordResult]:
    """Check many regimens lazily, in order; the same results as one check per record.

    Args:
        records: :class:`Record` objects, mappings ``{"id", "items", "context"}``, or plain
            lists of items (their id is their position).
        context: default patient context (a record's own context overrides it).
        reference: the reference; default the bundled data.
    """
    ref = reference if reference is not None else load_reference()
    for n, rec in enumerate(records, 1):
        if isinstance(rec, Record):
            r = rec
        elif isinstance(rec, list):
            r = Record(n - 1, rec, context, n)
        else:
            r = record_from_obj(rec, n, context)
        yield check_record(r, ref)


# -- the CLI engine: chunks of raw lines, optionally in worker processes ----------------------

@dataclass(frozen=True, slots=True)
class ChunkOut:
    """A processed chunk: JSONL text and tallies for the summary."""

    text: str
    records: int
    items: int
    errors: int
    error_lines: tuple[int, ...]
    by_severity: dict[str, int]
    by_category: dict[str, int]
    worst: int


_worker_ref: Reference | None = None
_worker_ctx: Context | None = None


def _init_worker(data_dir: str | None, ctx: Context | None, child: bool = False) -> None:
    global _worker_ref, _worker_ctx
    if child:
        import signal
        # the batch process's SIGTERM handler is inherited on fork; a worker just ends
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _die_with_parent()
    _worker_ref = load_reference(data_dir)
    _worker_ctx = ctx


def _die_with_parent() -> None:
    """Linux: a worker gets SIGTERM when the batch process dies (even by SIGKILL)."""
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def process_chunk(kind: str, payload: Any, start_line: int, header: list[str] | None = None
                  ) -> ChunkOut:
    """Check a chunk: ``kind`` 'jsonl' (payload = list of lines) or 'records'."""
    ref = _worker_ref or load_reference()
    if kind == "jsonl":
        recs: Iterable[Record] = (
            Record(r.id, r.items, r.context, r.line + start_line - 1, r.error)
            for r in read_jsonl(payload, _worker_ctx))
    else:
        recs = payload
    out = []
    n_rec = n_items = n_err = 0
    err_lines: list[int] = []
    by_sev: dict[str, int] = {}
    by_cat: dict[str, int] = {}
    worst = -1
    for rec in recs:
        res = check_record(rec, ref)
        n_rec += 1
        if res.result is None:
            n_err += 1
            err_lines.append(res.line)
        else:
            n_items += len(res.result.items)
            for f in res.result.findings:
                by_sev[f.severity] = by_sev.get(f.severity, 0) + 1
                by_cat[f.category] = by_cat.get(f.category, 0) + 1
                worst = max(worst, f.rank)
        out.append(res.to_json())
    text = "\n".join(out) + ("\n" if out else "")
    return ChunkOut(text, n_rec, n_items, n_err, tuple(err_lines), by_sev, by_cat, worst)


def iter_chunks_jsonl(stream: TextIO, size: int) -> Iterator[tuple[list[str], int]]:
    """Raw JSONL lines in chunks of ``size`` with the 1-based line number of the first."""
    buf: list[str] = []
    start = 1
    n = 0
    while True:
        line = stream.readline(MAX_RECORD_CHARS + 2)
        if not line:
            break
        n += 1
        if len(line) > MAX_RECORD_CHARS and not line.endswith("\n"):
            # an over-long record: skip the rest of the physical line, keep counting lines
            while True:
                more = stream.readline(1 << 20)
                if not more or more.endswith("\n"):
                    break
            line = " " * (MAX_RECORD_CHARS + 1)
        buf.append(line)
        if len(buf) >= size:
            yield buf, start
            buf, start = [], n + 1
    if buf:
        yield buf, start


def text_stream(binary: Any) -> TextIO:
    """Wrap a binary stream as UTF-8 text (BOM dropped; bad bytes kept as surrogates, reported)."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline=None)
