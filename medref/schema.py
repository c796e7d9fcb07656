"""JSON Schemas of medref's input and output documents (``medref schema``).

Also defines :class:`StructuredItem`, the pydantic model of a structured regimen item, which
other tools can use in their own models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from medref.result import CheckResult, Context


class StructuredItem(BaseModel):
    """One regimen item given as fields instead of a sig line."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="Any alias, brand or canonical id.")
    dose: float | None = Field(default=None, gt=0, description="Amount per administration.")
    dose_max: float | None = Field(default=None, gt=0, description="Top of a dose range.")
    unit: str | None = Field(default=None, description="mg, mcg, g, IU, mL, %, patch ...")
    frequency: str | None = Field(default=None, description="tid, q4-6h, weekly ...")
    route: str | None = None
    prn: bool | str | None = None
    prn_reason: str | None = None
    duration: float | str | None = Field(default=None, description="Days, or '5 days'.")
    strength: str | None = None
    form: str | None = None
    sig: str | None = Field(default=None, description="A whole sig line instead of fields.")


class BatchRecord(BaseModel):
    """One record of ``medref batch`` JSONL input."""

    model_config = ConfigDict(extra="forbid")

    id: str | int | None = None
    items: list[str | StructuredItem]
    context: dict[str, Any] | None = None


def json_schemas() -> dict[str, Any]:
    """The schemas: ``input`` (a regimen), ``output`` (check --format json), ``batch-output``."""
    output = TypeAdapter(CheckResult).json_schema(mode="serialization")
    output["properties"]["medref_version"] = {"type": "string"}
    output["title"] = "medref check output"
    finding = output["$defs"]["Finding"]
    finding["properties"]["severity"]["enum"] = ["info", "warning", "error"]
    item = output["$defs"]["ItemResult"]
    item["properties"]["status"]["enum"] = ["checked", "unverifiable", "unparseable", "unknown"]
    from medref.vocab import CATEGORIES
    finding["properties"]["category"]["enum"] = list(CATEGORIES)
    input_schema = TypeAdapter(list[str | StructuredItem]).json_schema()
    input_schema["title"] = "medref regimen input (JSON)"
    batch_in = BatchRecord.model_json_schema()
    ctx = TypeAdapter(Context).json_schema()
    batch_out = {
        "title": "medref batch output record (one JSON object per line)",
        "oneOf": [
            {"type": "object", "required": ["id", "findings", "summary"],
             "properties": {"id": {}, "items": {"type": "array"},
                            "findings": {"type": "array",
                                         "items": {"$ref": "#/$defs/Finding"}},
                            "summary": {"$ref": "#/$defs/Summary"}}},
            {"type": "object", "required": ["id", "line", "error"],
             "properties": {"id": {}, "line": {"type": "integer"},
                            "error": {"type": "string"}}},
        ],
        "$defs": output["$defs"],
    }
    return {"input": input_schema, "output": output, "batch-input": batch_in,
            "batch-output": batch_out, "context": ctx}
