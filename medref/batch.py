"""Batch screening: many regimens, streamed, in order, with nothing lost.

Library: :func:`check_many` yields one :class:`RecordResult` per record, lazily, identical to
one :func:`medref.check` per record. Readers (:func:`read_jsonl`, :func:`read_csv`) never stop
at a bad record: it becomes a record with ``error`` set.

CLI: ``medref batch INPUT [-o OUT] [--jobs N]`` writes JSONL in input order; chunks of records
are checked here (:func:`process_chunk`), in worker processes when ``--jobs`` is above 1, and
serialized by the one JSON serializer (:class:`medref.render.json.JsonWriter`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TextIO

from medref.api import RecordResult, assess_record, check_many, check_record, engine_for
from medref.context import Context, context_from_raw, merge
from medref.engine import Generations
from medref.readers.files import MAX_RECORD_CHARS, iter_csv, records_from_chunk, text_stream
from medref.readers.files import iter_jsonl as read_jsonl
from medref.readers.records import record_from_obj
from medref.reference import Reference, load_reference
from medref.regimen import Record
from medref.render.json import JsonWriter
from medref.vocab import SEVERITIES

__all__ = ["MAX_RECORD_CHARS", "ChunkOut", "Record", "RecordResult", "check_many",
           "check_record", "context_from", "process_chunk", "read_csv", "read_jsonl",
           "record_from_obj", "text_stream"]


def read_csv(stream: TextIO) -> Iterator[Record]:
    """Records from CSV rows grouped by consecutive ``id`` (see :mod:`medref.readers.files`)."""
    return iter_csv(stream)


def context_from(raw: Mapping[str, Any] | None, default: Context | None = None) -> Context:
    """The context a record's raw ``context`` object gives, over ``default`` (the record's
    own values win; see :mod:`medref.context`).

    Raises:
        ValueError: an unknown key or an invalid value (the message names the field).
    """
    if raw is not None and not isinstance(raw, Mapping):
        raise ValueError("field 'context': must be an object")
    return merge(context_from_raw(raw), default)


class ChunkOut(NamedTuple):
    """A processed chunk: JSONL bytes and tallies for the summary (a named tuple: it travels
    between processes, and a frozen dataclass compiled by mypyc cannot be rebuilt there)."""

    text: bytes
    records: int
    items: int
    errors: int
    error_lines: tuple[int, ...]
    by_severity: dict[str, int]
    by_category: dict[str, int]
    worst: int


@dataclass(frozen=True, slots=True)
class Worker:
    """What a batch process (or worker process) checks with."""

    reference: Reference
    options: Context | None
    writer: JsonWriter
    out: tuple[int, Any, Any] | None = None  # (fd, turn counter, condition) with --jobs
    regimens: Generations[tuple[tuple[object, ...], Context | None], _Done] = field(
        default_factory=lambda: Generations(REGIMEN_MEMO))
    """Whole regimens seen recently (their items and own context): the line after the id."""
    sighted: Generations[int, bool] = field(default_factory=lambda: Generations(SIGHTED))
    """Hashes of regimens seen once: a regimen's result is kept only when it comes again
    (keeping every unique regimen's output made a file of distinct regimens ~5% slower)."""
    unswept: list[int] = field(default_factory=lambda: [0])
    """Records checked since the last full garbage collection (see :func:`_settle`)."""


REGIMEN_MEMO = 512
"""Regimens a batch process remembers per generation (two generations; a regimen that recurs
is written from memory, byte for byte what checking it again would give)."""

SIGHTED = 8_192
"""Regimen hashes a batch process remembers per generation (two generations)."""

_Done = tuple[bytes, int, list[int], dict[str, int], int]
"""A regimen checked: its line after the id, items, counts by severity and category, worst."""


_worker: Worker | None = None
"""This process's worker (set once per process by :func:`init_worker`)."""


def init_worker(data_dir: str | None, options: Context | None, child: bool = False,
                out: tuple[int, Any, Any] | None = None) -> None:
    """Set up this process to check chunks (the batch process itself, or a worker)."""
    global _worker
    if child:
        import signal
        # the batch process's SIGTERM handler is inherited on fork; a worker just ends
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _die_with_parent()
    ref = load_reference(data_dir)
    _worker = Worker(ref, options, JsonWriter(ref), out)
    _tune_gc()


def _tune_gc() -> None:
    """Batch work allocates many short-lived objects beside large, long-lived memos: collect
    the young generation less often, and leave what exists now (reference, modules) out of
    the full collections."""
    import gc
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


FULL_GC_EVERY = 200_000
"""Records between two full collections in a batch process (see :func:`_settle`)."""


def _settle(w: Worker, records: int) -> None:
    """After a chunk: what survived it (memo entries, mostly) leaves the collector's young
    generations, so collections do not scan the memos over and over (checking allocates no
    reference cycles: a full collection after 20,000 generated records finds none). In case
    some input does, a full collection runs every :data:`FULL_GC_EVERY` records."""
    import gc
    w.unswept[0] += records
    if w.unswept[0] >= FULL_GC_EVERY:
        w.unswept[0] = 0
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def _die_with_parent() -> None:
    """Linux: a worker gets SIGTERM when the batch process dies (even by SIGKILL)."""
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Aborted(Exception):
    """The batch was abandoned while this worker waited for its turn to write."""


def process_and_write(kind: str, payload: Any, start_line: int, seq: int) -> ChunkOut:
    """Worker side of ``--jobs N``: check a chunk, then append its output to the shared output
    file when every earlier chunk has been written (chunk ``seq`` waits for ``seq - 1``).

    The text never travels back to the batch process; only the tallies do.
    """
    chunk = process_chunk(kind, payload, start_line)
    assert _worker is not None and _worker.out is not None
    fd, turn, cond = _worker.out
    with cond:
        while turn.value != seq:
            if turn.value < 0:
                raise Aborted
            cond.wait(0.5)
        write_all(fd, chunk.text)
        turn.value = seq + 1
        cond.notify_all()
    return ChunkOut(b"", chunk.records, chunk.items, chunk.errors, chunk.error_lines,
                    chunk.by_severity, chunk.by_category, chunk.worst)


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written."""
    view = memoryview(data)
    done, size = 0, len(view)
    while done < size:  # not ``while view``: compiled by mypyc, a memoryview is always true
        done += os.write(fd, view[done:])


def process_chunk(kind: str, payload: Any, start_line: int) -> ChunkOut:
    """Check a chunk: ``kind`` 'jsonl' (payload: raw lines) or 'records' (Record objects)."""
    w = _worker
    if w is None:
        ref = load_reference()
        w = Worker(ref, None, JsonWriter(ref))
    engine = engine_for(w.reference)
    writer = w.writer
    records = records_from_chunk(payload, start_line) if kind == "jsonl" else payload
    out: list[bytes] = []
    n_rec = n_items = n_err = 0
    worst = -1
    err_lines: list[int] = []
    sev = [0, 0, 0]
    cats: dict[str, int] = {}
    memo, sighted = w.regimens, w.sighted
    for rec in records:
        n_rec += 1
        error = rec.error
        if error is None:
            key = None
            if rec.fhir is None and rec.item_lines is None:
                items = rec.items
                if all(x.__class__ is str for x in items):
                    key = (tuple(items), rec.context)
            done = None
            if key is not None:
                # the hash first: most regimens are seen once, and only a regimen sighted
                # before can be in the memo (a sighting forgotten first costs a recheck)
                h = hash(key)
                if sighted.get(h) is None:  # first sighting: the result is not kept
                    sighted.put(h, True)
                    key = None
                else:
                    done = memo.get(key)
            if done is None:
                got = assess_record(engine, rec, w.options)
                if isinstance(got, str):
                    error = got
                else:
                    a, srcs = got
                    tail, s, c = writer.record_tail(a, srcs, rec.fhir)
                    done = (tail, len(a.lines), s, c, a.findings[0][2].rank if a.findings
                            else -1)
                    if key is not None:
                        memo.put(key, done)
            if done is not None:
                tail, n, s, c, rank = done
                out += (writer.id_head(rec.id), tail, b"\n")  # joined once per chunk
                n_items += n
                sev[0] += s[0]
                sev[1] += s[1]
                sev[2] += s[2]
                for k, v in c.items():
                    cats[k] = cats.get(k, 0) + v
                if rank > worst:
                    worst = rank
                continue
        n_err += 1
        err_lines.append(rec.line)
        out += (writer.error(rec.id, rec.line, str(error)), b"\n")
    text = b"".join(out)
    if _worker is not None:
        _settle(_worker, n_rec)
    return ChunkOut(text, n_rec, n_items, n_err, tuple(err_lines),
                    dict(zip(SEVERITIES, sev, strict=True)), dict(sorted(cats.items())), worst)
