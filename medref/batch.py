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
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, BinaryIO, TextIO

from medref.engine import (
    _CACHE_MAX,
    TALLY_CATEGORIES,
    TALLY_FIELD_BITS,
    Assessment,
    Placed,
    assess,
    clean_text,
    texts_of,
    to_result,
    unpack_counts,
)
from medref.errors import MedrefError
from medref.reference import Reference, load_reference
from medref.result import CONTEXT_KEYS, CheckResult, Context, Finding, context_value
from medref.vocab import SEVERITIES

MAX_RECORD_CHARS = 1_000_000
"""A JSONL record longer than this is reported as an error without being parsed."""



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


_encode_str: Any = json.encoder.encode_basestring
"""JSON string literal of a str (C implementation; as json.dumps with ensure_ascii=False)."""


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

    A missing, null or empty value keeps the default's. Text (CSV cells) is read first:
    ``true/yes/1/false/no/0`` for ``hepatic_impairment``, a number for the others; then every
    value goes through the one rule of :class:`Context` (:func:`medref.result.context_value`).

    Raises:
        ValueError: an unknown key or a value of the wrong type (message names the field).
    """
    base = default or Context()
    if raw is None:
        return base
    if not isinstance(raw, Mapping):
        raise ValueError("field 'context': must be an object")
    vals: dict[str, Any] = {k: getattr(base, k) for k in CONTEXT_KEYS}
    for k, v in raw.items():
        if k not in CONTEXT_KEYS:
            raise ValueError(f"field 'context.{k}': unknown (expected {', '.join(CONTEXT_KEYS)})")
        if v is None or v == "":
            continue
        if isinstance(v, str):
            if k == "hepatic_impairment":
                if v.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
                    v = v.strip().lower() in ("true", "yes", "1")
            else:
                try:
                    v = float(v)
                except ValueError:
                    raise ValueError(f"field 'context.{k}': not a number") from None
        vals[k] = context_value(k, v)
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
    ctx = _context_cached(obj.get("context"), default)
    if isinstance(ctx, str):
        return Record(rid, [], line=line, error=ctx)
    return Record(rid, items, ctx, line)


_CONTEXTS: dict[Any, Context | str] = {}


def _context_cached(raw: Any, default: Context | None) -> Context | str:
    """:func:`context_from`, memoised (records share few contexts); an error is a str."""
    try:
        key = (default, None if raw is None else
               tuple([(k, type(v), v) for k, v in raw.items()]))
        hit = _CONTEXTS.get(key)
    except (TypeError, AttributeError):  # unhashable values, or not a mapping
        key, hit = None, None
    if hit is None:
        try:
            hit = context_from(raw, default)
        except ValueError as exc:
            hit = str(exc)
        if key is not None:
            if len(_CONTEXTS) >= _CACHE_MAX:
                _CONTEXTS.clear()
            _CONTEXTS[key] = hit
    return hit


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
    bad = [h for h in header if h not in ("id", *_CSV_ITEM, *CONTEXT_KEYS)]
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
            ctx_raw = {k: fields[k] for k in CONTEXT_KEYS if fields.get(k)}
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
    a = _assess_record(rec, reference)
    if isinstance(a, str):
        return RecordResult(rec.id, rec.line, error=a)
    return RecordResult(rec.id, rec.line, to_result(reference, rec.context or Context(), a))


def _assess_record(rec: Record, ref: Reference) -> Assessment | str:
    """Run the checks on a readable record; a str is the one-line reason it failed."""
    try:
        return assess(ref, rec.context or Context(), texts_of(rec.items))
    except MedrefError as exc:
        return str(exc).splitlines()[0]
    except RecursionError:
        return "record nested too deeply"


def check_many(records: Iterable[Record | Mapping[str, Any] | list[Any]], *,
               context: Context | None = None, reference: Reference | None = None
               ) -> Iterator[RecordResult]:
    """Check many regimens lazily, in order; the same results as one check per record.

    Args:
        records: :class:`Record` objects, mappings ``{"id", "items", "context"}``, or plain
            lists of items (their id is their position).
        context: default patient context, for every kind of record: a record's own
            context values override it, and the values it leaves unset (None) are taken
            from it.
        reference: the reference; default the bundled data.
    """
    ref = reference if reference is not None else load_reference()
    for n, rec in enumerate(records, 1):
        if isinstance(rec, Record):
            r = rec
            if context is not None and rec.error is None:
                merged = _merge_context(rec.context, context)
                if merged is not rec.context:
                    r = replace(rec, context=merged)
        elif isinstance(rec, list):
            r = Record(n - 1, rec, context, n)
        else:
            r = record_from_obj(rec, n, context)
        yield check_record(r, ref)


def _merge_context(own: Context | None, default: Context) -> Context:
    """A record's own context over a default: its set values win, its unset ones are filled
    (:func:`context_from` of its values, memoised)."""
    if own is None or own == default:
        return default
    merged = _context_cached(own.to_dict(), default)
    assert isinstance(merged, Context)  # own's values are valid: they made a Context
    return merged


# -- the CLI engine: chunks of raw lines, optionally in worker processes ----------------------

@dataclass(frozen=True, slots=True)
class ChunkOut:
    """A processed chunk: JSONL text and tallies for the summary."""

    text: bytes
    records: int
    items: int
    errors: int
    error_lines: tuple[int, ...]
    by_severity: dict[str, int]
    by_category: dict[str, int]
    worst: int


_worker_ref: Reference | None = None
_worker_ctx: Context | None = None
_worker_out: tuple[int, Any, Any] | None = None  # (fd, next sequence number, condition)


def _init_worker(data_dir: str | None, ctx: Context | None, child: bool = False,
                 out: tuple[int, Any, Any] | None = None) -> None:
    global _worker_ref, _worker_ctx, _worker_out
    if child:
        import signal
        # the batch process's SIGTERM handler is inherited on fork; a worker just ends
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _die_with_parent()
    _worker_ref = load_reference(data_dir)
    _worker_ctx = ctx
    _worker_out = out
    _tune_gc()


def _tune_gc() -> None:
    """Batch work allocates many short-lived objects beside large, long-lived memos: collect
    the young generation less often, and leave what exists now (reference, modules) out of
    the full collections."""
    import gc
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


class _Aborted(Exception):
    """The batch was abandoned while this worker waited for its turn to write."""


def process_and_write(kind: str, payload: Any, start_line: int, seq: int) -> ChunkOut:
    """Worker side of ``--jobs N``: check a chunk, then append its output to the shared output
    file when every earlier chunk has been written (chunk ``seq`` waits for ``seq - 1``).

    The text never travels back to the batch process; only the tallies do.
    """
    chunk = process_chunk(kind, payload, start_line)
    assert _worker_out is not None
    fd, turn, cond = _worker_out
    with cond:
        while turn.value != seq:
            if turn.value < 0:
                raise _Aborted
            cond.wait(0.5)
        write_all(fd, chunk.text)
        turn.value = seq + 1
        cond.notify_all()
    return ChunkOut(b"", chunk.records, chunk.items, chunk.errors, chunk.error_lines,
                    chunk.by_severity, chunk.by_category, chunk.worst)


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


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
    """Check a chunk: ``kind`` 'jsonl' (payload = raw lines, bytes or str) or 'records'."""
    ref = _worker_ref or load_reference()
    ctx = _worker_ctx
    acc = _ChunkAcc()
    out: list[bytes] = []
    if kind == "jsonl":
        n = start_line - 1
        for raw in payload:
            n += 1
            if isinstance(raw, bytes):
                if b"\r" in raw.rstrip(b"\r\n"):
                    # a bare CR ends a line too (as in text mode): read each part
                    for part in raw.splitlines():
                        rec = _record_from_raw(part, n, ctx)
                        if rec is not None:
                            out.append(_record_json(rec, ref, acc))
                        n += 1
                    n -= 1
                    continue
                rec = _record_from_raw(raw, n, ctx)
            else:
                rec = _record_from_text(raw, n, ctx)
            if rec is not None:
                out.append(_record_json(rec, ref, acc))
    else:
        for rec in payload:
            out.append(_record_json(rec, ref, acc))
    text = b"\n".join(out) + (b"\n" if out else b"")
    cats, sevs = unpack_counts(acc.packed)
    by_sev = dict(zip(SEVERITIES, sevs, strict=True))
    by_cat = {c: n for c, n in zip(TALLY_CATEGORIES, cats, strict=True) if n}
    return ChunkOut(text, acc.records, acc.items, acc.errors, tuple(acc.error_lines), by_sev,
                    by_cat, acc.worst)


class _ChunkAcc:
    __slots__ = ("error_lines", "errors", "items", "packed", "records", "worst")

    def __init__(self) -> None:
        self.records = self.items = self.errors = 0
        self.worst = -1
        self.packed = 0  # findings by category and severity (see _class_bits)
        self.error_lines: list[int] = []


def _record_from_raw(raw: bytes, n: int, ctx: Context | None) -> Record | None:
    """A record from one raw JSONL line (None for a blank line)."""
    if len(raw) > MAX_RECORD_CHARS:
        try:
            long = len(raw.decode("utf-8", "surrogateescape")) > MAX_RECORD_CHARS
        except UnicodeDecodeError:  # pragma: no cover - surrogateescape never fails
            long = True
        if long:
            return Record(None, [], line=n, error=f"record longer than {MAX_RECORD_CHARS:,} "
                          "characters")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Record(None, [], line=n, error="not valid UTF-8 text")
    return _record_from_text(text, n, ctx)


def _record_from_text(text: str, n: int, ctx: Context | None) -> Record | None:
    if len(text) > MAX_RECORD_CHARS:
        return Record(None, [], line=n, error=f"record longer than {MAX_RECORD_CHARS:,} "
                      "characters")
    if _BAD_BYTES.search(text):
        return Record(None, [], line=n, error="not valid UTF-8 text")
    try:
        obj = json.loads(text)
    except ValueError as exc:
        if not text.strip():
            return None
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return Record(None, [], line=n, error=f"invalid JSON: {msg}")
    except RecursionError:
        return Record(None, [], line=n, error="invalid JSON: nested too deeply")
    return record_from_obj(obj, n, ctx)


def _id_json(rid: Any) -> bytes:
    if isinstance(rid, str):
        return str(_encode_str(rid)).encode()
    if rid is None:
        return b"null"
    return _dumps(rid).encode()


def _record_json(rec: Record, ref: Reference, acc: _ChunkAcc) -> bytes:
    """One JSONL output line for a record (equal to ``check_record(...).to_json()``)."""
    acc.records += 1
    error = rec.error
    if error is None:
        a = _assess_record(rec, ref)
        if not isinstance(a, str):
            return _result_json(rec, a, ref, acc)
        error = a
    acc.errors += 1
    acc.error_lines.append(rec.line)
    return _dumps({"id": rec.id, "line": rec.line, "error": error}).encode()


_SEV_JSON = (b'"info"', b'"warning"', b'"error"')
_CAT_FMT = [f'"{c}":%d'.encode() for c in TALLY_CATEGORIES]
_FIELD = TALLY_FIELD_BITS
_MASK = (1 << _FIELD) - 1
_SEV_SHIFT = _FIELD * len(TALLY_CATEGORIES)
_CAT_BITS = (1 << _SEV_SHIFT) - 1


def _counts_json(findings: list[Placed]) -> tuple[bytes, int, int]:
    """Summary counts of sorted findings: JSON, worst rank, and the packed counts."""
    packed = sum([f[2].cbit for f in findings])
    worst = findings[0][2].rank if findings else -1
    sev = packed >> _SEV_SHIFT
    cats = packed & _CAT_BITS
    parts = []
    i = 0
    while cats:
        n = cats & _MASK
        if n:
            parts.append(_CAT_FMT[i] % n)
        cats >>= _FIELD
        i += 1
    text = (b'"findings":%d,"by_severity":{"info":%d,"warning":%d,"error":%d},'
            b'"by_category":{%s},"highest_severity":%s,'
            % (len(findings), sev & _MASK, sev >> _FIELD & _MASK, sev >> 2 * _FIELD,
               b",".join(parts), _SEV_JSON[worst] if worst >= 0 else b"null"))
    return text, worst, packed


_STATUSES: dict[tuple[str, ...], bytes] = {}
_LINES_JSON: dict[tuple[int, ...], bytes] = {}


def _statuses_json(statuses: tuple[str, ...]) -> bytes:
    hit = _STATUSES.get(statuses)
    if hit is None:
        st = {"checked": 0, "unverifiable": 0, "unparseable": 0, "unknown": 0}
        for x in statuses:
            st[x] += 1
        hit = (f'"items":{len(statuses)},"checked":{st["checked"]},"statuses":{_dumps(st)},'
               ).encode()
        if len(_STATUSES) >= _CACHE_MAX:
            _STATUSES.clear()
        _STATUSES[statuses] = hit
    return hit


def _result_json(rec: Record, a: Assessment, ref: Reference, acc: _ChunkAcc) -> bytes:
    findings = a.findings
    counts, worst, packed = _counts_json(findings)
    acc.items += len(a.checks)
    acc.packed += packed
    if worst > acc.worst:
        acc.worst = worst
    out = [b'{"id":', _id_json(rec.id), b',"findings":[']
    for _, lines, t in findings:
        pre, post = t.parts or t.json_parts()
        lj = _LINES_JSON.get(lines)
        if lj is None:
            lj = ",".join(map(str, lines)).encode()
            if len(_LINES_JSON) < _CACHE_MAX:
                _LINES_JSON[lines] = lj
        out += (pre, lj, post, b",")
    if findings:
        out.pop()  # no comma after the last finding
    out += (b'],"summary":{', _statuses_json(tuple([lc.line.status for lc in a.checks])),
            counts, b'"mme_per_day":', b"null" if a.mme is None else repr(a.mme).encode(),
            b",", _summary_tail(ref, rec.context or Context()))
    return b"".join(out)


def _summary_tail(ref: Reference, ctx: Context) -> bytes:
    """The end of a result line: factor table, context and data (memoised per context)."""
    tails: dict[int, tuple[Context, bytes]] = ref.memo.setdefault("batch-tails", {})
    hit = tails.get(id(ctx))  # the context is kept alive beside its tail, so ids are unique
    if hit is None or hit[0] is not ctx:
        tail = (f'"mme_factor_table":{_dumps(ref.policy["mme_factor_table"]["version"])},'
                f'"context":{_dumps(ctx.to_dict())},"data":{_dumps(ref.info.to_dict())}}}}}'
                ).encode()
        if len(tails) >= _CACHE_MAX:
            tails.clear()
        hit = tails[id(ctx)] = (ctx, tail)
    return hit[1]


def iter_chunks_jsonl(stream: BinaryIO, size: int) -> Iterator[tuple[list[bytes], int]]:
    """Raw JSONL lines (bytes) in chunks of ``size`` with the 1-based line number of the first.

    A line longer than a record can be is cut short (the rest is skipped, never held in
    memory) and reported as too long; a UTF-8 byte order mark at the start is dropped.
    """
    limit = 4 * MAX_RECORD_CHARS + 2
    buf: list[bytes] = []
    start = 1
    n = 0
    readline = stream.readline
    while True:
        line = readline(limit)
        if not line:
            break
        if n == 0 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        n += 1
        if len(line) >= limit and not line.endswith(b"\n"):
            while True:
                more = readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            line = b" " * (MAX_RECORD_CHARS + 1)
        buf.append(line)
        if len(buf) >= size:
            yield buf, start
            buf, start = [], n + 1
    if buf:
        yield buf, start


def text_stream(binary: Any) -> TextIO:
    """Wrap a binary stream as UTF-8 text (BOM dropped; bad bytes kept as surrogates, reported)."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline=None)
