"""Exceptions raised by medref.

Every exception is a :class:`MedrefError` and also subclasses the matching builtin, so callers
can catch either. Exceptions mean *could not check* (bad data, bad input); a problem found in a
regimen is a :class:`~medref.result.Finding`, never an exception.
"""

from __future__ import annotations


class MedrefError(Exception):
    """Base class of every error medref raises on purpose."""


class DataError(MedrefError, ValueError):
    """A reference data file is missing, unreadable or invalid.

    The message names the file, the entry id (or index) and the field.
    """

    def __init__(self, message: str, *, file: str = "", entry: str = "", field: str = "") -> None:
        super().__init__(message)
        self.file = file
        self.entry = entry
        self.field = field


class UnknownSubstanceError(MedrefError, LookupError):
    """A name matches no entry, alias or recognised agent.

    ``suggestions`` holds the closest known names, best first.
    """

    def __init__(self, name: str, suggestions: tuple[str, ...] = ()) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown drug or supplement {name!r}{hint}")
        self.name = name
        self.suggestions = suggestions


class InputError(MedrefError, ValueError):
    """A regimen input (file, record, line or field) cannot be read.

    ``where`` names the place (``file:line`` and field); the message is one line.
    """

    def __init__(self, message: str, *, source: str = "", line: int | None = None,
                 field: str = "") -> None:
        parts = [p for p in (source, str(line) if line is not None else "") if p]
        where = ":".join(parts)
        if field:
            where = f"{where} field {field!r}" if where else f"field {field!r}"
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.line = line
        self.field = field
        self.reason = message


class SigError(MedrefError, ValueError):
    """A sig line could not be read. ``part`` is the text that was not understood."""

    def __init__(self, message: str, part: str = "") -> None:
        super().__init__(message)
        self.part = part
