"""Closed vocabularies shared by the engine and the models (no pydantic import here)."""

from __future__ import annotations

import enum


@enum.unique
class Severity(enum.StrEnum):
    """Finding severity, in increasing order. Values are the wire and CLI spelling."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for error."""
        return SEVERITY_RANK[self.value]


SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
SEVERITIES = ("info", "warning", "error")

CATEGORIES = (
    "unparseable",
    "unknown-item",
    "unverifiable",
    "dose-low",
    "dose-high",
    "daily-max",
    "bone-healing",
    "duplicate-therapy",
    "interaction",
    "opioid-mme",
    "upper-limit",
    "administration",
    "duration",
)
"""The closed vocabulary of finding categories (a public contract)."""

STATUSES = ("checked", "unverifiable", "unparseable", "unknown")
"""Per-item status values (a public contract)."""
