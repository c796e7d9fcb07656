"""Renderers: the same result as a table, JSON or CSV (:mod:`.table`, :mod:`.json`)."""

from __future__ import annotations

import enum


@enum.unique
class OutputFormat(enum.StrEnum):
    """Output formats of the table commands."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"
