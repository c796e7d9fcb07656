"""The machinery behind ``medref batch``: streaming, worker processes, atomic output."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, BinaryIO, TextIO

from medref.batch import ChunkOut, init_worker, process_and_write, process_chunk
from medref.context import Context
from medref.errors import InputError
from medref.readers.files import iter_csv, iter_jsonl_chunks, open_binary, text_stream
from medref.regimen import Record
from medref.vocab import SEVERITIES, SEVERITY_RANK


def _csv_chunks(stream: TextIO, size: int) -> Iterator[tuple[list[Record], int]]:
    buf: list[Record] = []
    for rec in iter_csv(stream, require_id=True):
        buf.append(rec)
        if len(buf) >= size:
            yield buf, 0
            buf = []
    if buf:
        yield buf, 0


class _Totals:
    def __init__(self) -> None:
        self.records = self.items = self.errors = 0
        self.worst = -1
        self.by_sev: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        self.by_cat: dict[str, int] = {}
        self.first_errors: list[int] = []

    def add(self, c: ChunkOut) -> None:
        self.records += c.records
        self.items += c.items
        self.errors += c.errors
        self.worst = max(self.worst, c.worst)
        for k, v in c.by_severity.items():
            self.by_sev[k] = self.by_sev.get(k, 0) + v
        for k, v in c.by_category.items():
            self.by_cat[k] = self.by_cat.get(k, 0) + v
        if len(self.first_errors) < 10:
            self.first_errors.extend(c.error_lines[: 10 - len(self.first_errors)])


def _summary(t: _Totals) -> str:
    from tabulate import tabulate
    rows: list[list[Any]] = [["records", t.records], ["items", t.items],
                             ["records not read (errors)", t.errors]]
    rows += [[f"findings: {s}", t.by_sev.get(s, 0)] for s in reversed(SEVERITIES)]
    rows += [[f"  {c}", n] for c, n in sorted(t.by_cat.items())]
    text = str(tabulate(rows, headers=["medref batch", "count"], tablefmt="simple"))
    if t.first_errors:
        text += "\nrecords not read at input lines: " + ", ".join(map(str, t.first_errors))
        if t.errors > len(t.first_errors):
            text += ", ..."
    return text


def _chmod_like_new_file(fd: int) -> None:
    """Give the temporary output the mode a newly created file would have (0666 less the
    umask), not mkstemp's private 0600, since it becomes the output file."""
    mask = os.umask(0)
    os.umask(mask)
    with contextlib.suppress(OSError, AttributeError):  # no fchmod (Windows): keep 0600
        os.fchmod(fd, 0o666 & ~mask)


def _open_output(output: str) -> tuple[BinaryIO, str | None, str | None]:
    """Open ``-o PATH`` for writing: ``(file, temporary path, final path)``.

    A regular file (new or existing) is written to a hidden temporary file in the directory
    of its final path and renamed onto it at the end, so it appears complete or not at all. A
    symlink is followed: the temporary file goes beside the file it points to and replaces
    that file, so the link stays. An existing FIFO or character device (a pipe, /dev/null) is
    written directly (temporary path None): it cannot be replaced atomically, and replacing it
    with a regular file would break whatever reads it.

    Raises:
        InputError: the output cannot be written (one line naming it).
    """
    target = os.path.realpath(output) if os.path.islink(output) else output
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"cannot write output here ({exc.strerror})", source=output) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, not a file", source=output)
    if st is not None and not stat.S_ISREG(st.st_mode):
        if not (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
            raise InputError("cannot write output to a socket or block device", source=output)
        try:
            fd = os.open(target, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise InputError(f"cannot write output here ({exc.strerror})",
                             source=output) from None
        return os.fdopen(fd, "wb"), None, None
    directory = os.path.dirname(os.path.abspath(target))
    try:
        fd, tmp_path = tempfile.mkstemp(prefix=".medref-batch-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"cannot write output here ({exc.strerror})", source=output) from None
    _chmod_like_new_file(fd)
    return os.fdopen(fd, "wb"), tmp_path, target


def run_batch(input_path: str, output: str | None, *, jobs: int, chunk_size: int,
              fail_on: str, in_format: str, progress: bool | None, context: Context,
              data_dir: str | None) -> int:
    """Run a batch and return the exit status (0, 1 or 2)."""
    fmt = in_format
    if fmt == "auto":
        fmt = "csv" if input_path.lower().endswith(".csv") else "jsonl"
    binary = open_binary(input_path)
    chunks: Iterator[tuple[Any, int]]
    if fmt == "csv":
        text = text_stream(binary)
        stream: TextIO | BinaryIO = text
        chunks = _csv_chunks(text, chunk_size)
        kind = "records"
    else:
        stream = binary
        chunks = iter_jsonl_chunks(binary, chunk_size)
        kind = "jsonl"
    show = progress if progress is not None else sys.stderr.isatty()
    tmp_path: str | None = None
    target: str | None = None
    out: BinaryIO
    if output is not None:
        try:
            out, tmp_path, target = _open_output(output)
        except BaseException:
            stream.close()
            raise
    else:
        sys.stdout.flush()
        out = sys.stdout.buffer
    totals = _Totals()
    previous = signal.getsignal(signal.SIGTERM)

    def _on_term(signum: int, frame: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, _on_term)
    ok = False
    try:
        if jobs == 1:
            init_worker(data_dir, context)
            for payload, start in chunks:
                _emit(out, process_chunk(kind, payload, start), totals, show)
        else:
            _run_workers(out, chunks, kind, jobs, data_dir, context, totals, show)
        if totals.records == 0:
            raise InputError("no records in the input (it is empty)", source=input_path)
        out.flush()
        if tmp_path is not None and target is not None:
            os.fsync(out.fileno())
            out.close()
            os.replace(tmp_path, target)
            tmp_path = None
        elif output is not None:
            out.close()  # a FIFO or device, written directly
        ok = True
    finally:
        signal.signal(signal.SIGTERM, previous)
        stream.close()
        if tmp_path is not None:
            try:
                out.close()
            finally:
                if os.path.exists(tmp_path):
                    os.unlink(tmp_path)
        elif output is not None and not out.closed:
            with contextlib.suppress(OSError):
                out.close()
        if show:
            sys.stderr.write("\r" + " " * 40 + "\r")
    if ok:
        sys.stderr.write(_summary(totals) + "\n")
    if totals.errors:
        return 2
    return 1 if totals.worst >= SEVERITY_RANK[fail_on] else 0


def _run_workers(out: BinaryIO, chunks: Iterator[tuple[Any, int]], kind: str, jobs: int,
                 data_dir: str | None, context: Context, totals: _Totals, show: bool) -> None:
    """Spread chunks over worker processes, a bounded number in flight.

    Where processes fork (Linux), each worker appends its chunk's output to the inherited
    output file itself, in chunk order (a shared turn counter), so the results never travel
    through the batch process; elsewhere the batch process writes what workers return.
    """
    import multiprocessing
    out.flush()
    try:
        fd: int | None = out.fileno()
    except (OSError, ValueError, AttributeError):  # an in-memory stream (tests, embedding)
        fd = None
    if fd is not None and "fork" in multiprocessing.get_all_start_methods():
        mp: Any = multiprocessing.get_context("fork")
        turn = mp.Value("q", 0, lock=False)
        cond = mp.Condition()
        shared: tuple[int, Any, Any] | None = (fd, turn, cond)
    else:
        mp = multiprocessing.get_context()
        shared = None
    pool = ProcessPoolExecutor(jobs, mp_context=mp, initializer=init_worker,
                               initargs=(data_dir, context, True, shared))
    pending: deque[Future[ChunkOut]] = deque()
    try:
        for seq, (payload, start) in enumerate(chunks):
            if shared is not None:
                pending.append(pool.submit(process_and_write, kind, payload, start, seq))
            else:
                pending.append(pool.submit(process_chunk, kind, payload, start))
            while len(pending) >= jobs * 2:
                _emit(out, pending.popleft().result(), totals, show)
        while pending:
            _emit(out, pending.popleft().result(), totals, show)
    except BaseException:
        if shared is not None:
            with shared[2]:
                shared[1].value = -1  # waiting workers give up their turn
                shared[2].notify_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _emit(out: BinaryIO, chunk: ChunkOut, totals: _Totals, show: bool) -> None:
    if chunk.text:
        out.write(chunk.text)
    totals.add(chunk)
    if show:
        sys.stderr.write(f"\r{totals.records:,} records, {totals.errors:,} errors")
        sys.stderr.flush()
