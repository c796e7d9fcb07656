"""Compiled knowledge: its defaults are the authoring models', and it is what the data says."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from medref import knowledge as K
from medref import models as M
from medref.reference import load_reference

PAIRS: list[tuple[type[BaseModel], type]] = [
    (M.Condition, K.Condition), (M.Limit, K.Limit), (M.TypicalDose, K.Typical),
    (M.BoneHealing, K.BoneHealing), (M.ContextRule, K.ContextRule), (M.Entry, K.Ingredient),
    (M.InteractionRule, K.InteractionRule),
]


@pytest.mark.parametrize(("model", "compiled"), PAIRS, ids=lambda c: c.__name__)
def test_compiled_defaults_are_the_models_defaults(model: type[BaseModel],
                                                   compiled: type) -> None:
    """No default is restated by hand: a field the data may leave out takes, compiled, the
    authoring model's default (lists become tuples)."""
    defaults = compiled._field_defaults  # type: ignore[attr-defined]
    for name, field in model.model_fields.items():
        if name not in compiled._fields:  # type: ignore[attr-defined]
            continue  # provenance fields are compiled into ``cited``
        if field.default is PydanticUndefined and field.default_factory is None:
            assert name not in defaults, f"{compiled.__name__}.{name} has a default"
            continue
        want = field.default if field.default_factory is None else field.default_factory()
        want = tuple(want) if isinstance(want, list) else want
        got = defaults.get(name, PydanticUndefined)
        if hasattr(want, "value"):  # enums: compiled as their wire value
            want = want.value
        assert got == want, f"{compiled.__name__}.{name}: {got!r} != {want!r}"


def test_every_entry_compiles_to_what_its_model_validates() -> None:
    """Each compiled ingredient carries the validated entry's values."""
    ref = load_reference()
    for eid in ref.entries:
        model = ref.model(eid)
        ing = ref.ingredients[eid]
        assert (ing.id, ing.kind, ing.name) == (model.id, model.kind.value, model.name)
        assert ing.aliases == model.aliases
        compiled = (*ing.limits, *ing.per_kg_limits)
        assert len(compiled) == len(model.limits)
        by_kg = sorted(model.limits, key=lambda m: m.per_kg)  # per-kg limits are kept apart
        for lim, m in zip(compiled, by_kg, strict=True):
            # the alert policy: a limit from an unverified source is at most a warning
            want = ("warning" if m.severity.value == "error" and not m.verified
                    else m.severity.value)
            assert (lim.kind, lim.amount, lim.severity) == (m.kind.value, m.amount, want)
            assert lim.cited.verified == m.verified and lim.per_kg == m.per_kg
        assert ing.bone_healing.concern == model.bone_healing.concern.value


def test_the_reference_is_immutable() -> None:
    """A long-running service can hold a reference: its mappings cannot be changed."""
    ref = load_reference()
    with pytest.raises(TypeError):
        ref.entries["x"] = {}  # type: ignore[index]
    with pytest.raises((TypeError, AttributeError)):
        ref.knowledge.ingredients["x"] = None  # type: ignore[index]
    with pytest.raises(AttributeError):
        ref.knowledge.rules[0].severity = "info"  # type: ignore[misc]
