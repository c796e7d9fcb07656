"""Telling FHIR input from a medref record, without importing the FHIR reader."""

from __future__ import annotations

from collections.abc import Mapping


def is_fhir(obj: object) -> bool:
    """True for a FHIR resource (``resourceType``) or a CDS Hooks request (``hook`` and
    ``context``), not a medref record (``{"id", "items", "context"}``)."""
    return isinstance(obj, Mapping) and (
        isinstance(obj.get("resourceType"), str)
        or (isinstance(obj.get("hook"), str) and isinstance(obj.get("context"), Mapping)
            and "items" not in obj))
