"""Reading regimen files: ``.txt`` (one line per item), ``.json`` (a list of lines or structured
items), ``.csv`` (a header with at least name, dose, unit, frequency).

Every problem raises :class:`~medref.errors.InputError` with a one-line message naming the file,
the line and the field.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from typing import Any, BinaryIO

from medref.errors import InputError

MAX_INPUT_BYTES = 64 * 1024 * 1024
"""Inputs above this size are refused (memory stays bounded)."""

CSV_REQUIRED = ("name", "dose", "unit", "frequency")
CSV_OPTIONAL = ("route", "prn", "prn_reason", "duration", "dose_max", "strength", "form")
MAX_JSON_DEPTH = 50
LAST_LINES: list[int] = []
"""File line of each item of the last CSV or JSON list read (names lines in errors)."""


def open_binary(path: str) -> BinaryIO:
    """Open an input file for reading bytes (``-`` is stdin).

    Raises:
        InputError: missing file, a directory, or unreadable (one line naming the file).
    """
    if path == "-":
        return sys.stdin.buffer
    if os.path.isdir(path):
        raise InputError("is a directory, not a file", source=path)
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError("file not found", source=path) from None
    except PermissionError:
        raise InputError("permission denied", source=path) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=path) from None


def read_bytes(path: str) -> tuple[bytes, str]:
    """Read a file (``-`` for stdin). Returns the bytes and a display name.

    Raises:
        InputError: missing file, a directory, unreadable, or too large.
    """
    name = "<stdin>" if path == "-" else path
    fh = open_binary(path)
    try:
        data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=name) from None
    finally:
        if path != "-":
            fh.close()
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB", source=name)
    return data, name


def decode(data: bytes, name: str) -> str:
    """Decode UTF-8 (a BOM is dropped); bad bytes are reported with their line number."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("not valid UTF-8 text", source=name, line=line) from None


def guess_format(name: str, text: str) -> str:
    """``json``, ``csv`` or ``txt`` from the file name, else from the content."""
    low = name.lower()
    for ext in ("json", "csv", "txt"):
        if low.endswith("." + ext):
            return ext
    return "json" if text.lstrip().startswith(("[", "{")) else "txt"


def parse_text(text: str, name: str, fmt: str) -> list[str | dict[str, Any]]:
    """Parse decoded text in a format into regimen items.

    Raises:
        InputError: malformed content, naming the line and field.
    """
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError("binary content (NUL byte); expected text", source=name, line=line)
    if fmt == "json":
        items = _parse_json(text, name)
    elif fmt == "csv":
        items = _parse_csv(text, name)
    else:
        stripped = [ln.strip() for ln in text.splitlines()]
        items = [ln for ln in stripped if ln and not ln.startswith("#")]
    if not items:
        raise InputError("no regimen lines found (the input is empty)", source=name)
    return items


def _depth_ok(text: str) -> bool:
    depth = best = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
            if best > MAX_JSON_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def _parse_json(text: str, name: str) -> list[str | dict[str, Any]]:
    if not _depth_ok(text):
        raise InputError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", source=name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg} (column {exc.colno})", source=name,
                         line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"invalid JSON: {str(exc)[:80]}", source=name) from None
    LAST_LINES.clear()
    if isinstance(doc, list):
        LAST_LINES.extend(_element_lines(text))
    if isinstance(doc, dict) and "items" in doc:
        doc = doc["items"]
    if not isinstance(doc, list):
        raise InputError("expected a JSON list of lines or items (or {\"items\": [...]})",
                         source=name)
    out: list[str | dict[str, Any]] = []
    for i, it in enumerate(doc):
        if isinstance(it, (str, dict)):
            out.append(it)
        else:
            raise InputError(f"item {i} must be a string or an object, not "
                             f"{type(it).__name__}", source=name, field=f"items[{i}]")
    return out


def _element_lines(text: str) -> list[int]:
    """File line on which each element of a top-level JSON list starts."""
    dec = json.JSONDecoder()
    pos = text.index("[") + 1
    out: list[int] = []
    n = len(text)
    line, counted = 1, 0
    while pos < n:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n or text[pos] == "]":
            break
        line += text.count("\n", counted, pos)
        counted = pos
        out.append(line)
        _, pos = dec.raw_decode(text, pos)
    return out


def _parse_csv(text: str, name: str) -> list[str | dict[str, Any]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty CSV (no header)", source=name) from None
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", source=name, line=1) from None
    cols = [h.strip().lower() for h in header]
    missing = [c for c in CSV_REQUIRED if c not in cols]
    if missing:
        raise InputError(f"CSV header lacks required column(s) {', '.join(missing)}",
                         source=name, line=1, field=missing[0])
    for c in cols:
        if c not in CSV_REQUIRED and c not in CSV_OPTIONAL:
            raise InputError(f"unknown CSV column (allowed: "
                             f"{', '.join(CSV_REQUIRED + CSV_OPTIONAL)})", source=name,
                             line=1, field=c)
    if len(set(cols)) != len(cols):
        raise InputError("duplicate CSV column", source=name, line=1)
    out: list[str | dict[str, Any]] = []
    LAST_LINES.clear()
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(cols):
                raise InputError(f"expected {len(cols)} fields, got {len(row)}", source=name,
                                 line=reader.line_num)
            out.append({c: v.strip() for c, v in zip(cols, row, strict=True) if v.strip()})
            LAST_LINES.append(reader.line_num)
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", source=name, line=reader.line_num) from None
    return out


def read_regimen(path: str, fmt: str | None = None) -> list[str | dict[str, Any]]:
    """Read a regimen file (``-`` for stdin) into items for :func:`medref.check`.

    Raises:
        InputError: naming the file, line and field.
    """
    return read_regimen_lines(path, fmt)[0]


def read_regimen_lines(path: str, fmt: str | None = None
                       ) -> tuple[list[str | dict[str, Any]], list[int] | None]:
    """Like :func:`read_regimen`, with the file line of each item for CSV files (else None)."""
    data, name = read_bytes(path)
    text = decode(data, name)
    kind = fmt or guess_format(name, text)
    items = parse_text(text, name, kind)
    lines = list(LAST_LINES) if kind in ("csv", "json") else []
    return items, (lines if len(lines) == len(items) else None)
