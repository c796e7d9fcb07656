"""The shipped reference data (``data/*.json``): valid, complete, sourced and current."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medref.reference import (
    DATA_FILES,
    Reference,
    _read_all,
    bundled_data_dir,
    combined_digest,
    digest,
    load_reference,
)

DRUG_IDS = (
    "acetaminophen", "ibuprofen", "naproxen", "celecoxib", "gabapentin", "pregabalin",
    "duloxetine", "amitriptyline", "cyclobenzaprine", "tizanidine", "morphine", "oxycodone",
    "hydromorphone", "tramadol", "methocarbamol", "ketorolac", "clonidine", "fluoxetine",
    "capsaicin", "lidocaine", "alendronate", "zoledronic-acid", "teriparatide", "abaloparatide",
    "romosozumab", "hyaluronic-acid", "polynucleotide-sodium", "autologous-bmsc",
    "allogeneic-msc-scaffold", "platelet-rich-plasma",
)
SUPPLEMENT_IDS = (
    "vitamin-d3", "calcium-citrate", "magnesium-glycinate", "vitamin-k2", "collagen-peptides",
    "omega-3", "boron", "silicon", "strontium-citrate", "manganese",
)
NON_CHECKABLE = ("autologous-bmsc", "allogeneic-msc-scaffold", "platelet-rich-plasma",
                 "hyaluronic-acid", "polynucleotide-sodium")

BRAND_ALIASES = {
    "APAP": "acetaminophen",
    "paracetamol": "acetaminophen",
    "Tylenol": "acetaminophen",
    "Advil": "ibuprofen",
    "Motrin": "ibuprofen",
    "Aleve": "naproxen",
    "Celebrex": "celecoxib",
    "Neurontin": "gabapentin",
    "Lyrica": "pregabalin",
    "Cymbalta": "duloxetine",
    "Elavil": "amitriptyline",
    "Flexeril": "cyclobenzaprine",
    "Zanaflex": "tizanidine",
    "Roxicodone": "oxycodone",
    "Dilaudid": "hydromorphone",
    "Ultram": "tramadol",
    "Robaxin": "methocarbamol",
    "Toradol": "ketorolac",
    "Catapres": "clonidine",
    "Prozac": "fluoxetine",
    "Zostrix": "capsaicin",
    "Lidoderm": "lidocaine",
    "Fosamax": "alendronate",
    "Reclast": "zoledronic-acid",
    "Forteo": "teriparatide",
    "Tymlos": "abaloparatide",
    "Evenity": "romosozumab",
    "cholecalciferol": "vitamin-d3",
}

NUMERIC_FACTS = ("mme_factor", "iu_per_mcg", "elemental_fraction", "rxcui")


@pytest.fixture(scope="module")
def ref() -> Reference:
    """The shipped data, fully validated (never the manifest fast path)."""
    return load_reference(validate=True)


@pytest.fixture(scope="module")
def data_dir() -> Path:
    d = bundled_data_dir()
    assert d is not None, "bundled_data_dir() found no data directory"
    return d


@pytest.fixture(scope="module")
def raw(data_dir: Path) -> dict[str, Any]:
    return {name: json.loads((data_dir / name).read_text(encoding="utf-8"))
            for name in DATA_FILES}


def _entries(raw: dict[str, Any], *files: str) -> Iterator[dict[str, Any]]:
    for fname in files or ("drugs.json", "supplements.json", "watch.json"):
        yield from raw[fname]


def _numeric_facts(e: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(field path, object holding the sources) for every numeric fact of an entry."""
    if e.get("typical"):
        yield "typical", e["typical"]
    for i, lim in enumerate(e.get("limits", ())):
        yield f"limits[{i}]", lim
    for name in NUMERIC_FACTS:
        if e.get(name):
            yield name, e[name]
    bh = e.get("bone_healing") or {}
    if bh.get("high_dose") is not None:
        yield "bone_healing.high_dose", bh


def _walk(obj: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(obj, dict):
        yield path, obj
        for k, v in obj.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _walk(v, f"{path}[{i}]")


def test_shipped_data_passes_full_validation(ref: Reference) -> None:
    """load_reference(validate=True) validates every file and indexes the entries."""
    assert ref.entries
    assert ref.info.origin == "bundled"


@pytest.mark.parametrize("eid", DRUG_IDS)
def test_drug_id_present_in_drugs_json(ref: Reference, eid: str) -> None:
    assert eid in ref.entries
    assert ref.entry_file[eid] == "drugs.json"


@pytest.mark.parametrize("eid", SUPPLEMENT_IDS)
def test_supplement_id_present_in_supplements_json(ref: Reference, eid: str) -> None:
    assert eid in ref.entries
    assert ref.entry_file[eid] == "supplements.json"
    assert ref.entries[eid]["kind"] == "supplement"


def test_every_numeric_fact_cites_known_sources(raw: dict[str, Any]) -> None:
    """limits, typical, mme_factor, iu_per_mcg, elemental_fraction, rxcui, high_dose are sourced."""
    known = {s["id"] for s in raw["sources.json"]}
    problems = []
    for e in _entries(raw):
        for field, obj in _numeric_facts(e):
            srcs = obj.get("sources")
            if not srcs:
                problems.append(f"{e['id']}: {field}: no sources")
                continue
            problems += [f"{e['id']}: {field}: unknown source {s!r}" for s in srcs
                         if s not in known]
    assert not problems, "\n".join(problems)


def test_policy_numbers_cite_known_sources(raw: dict[str, Any]) -> None:
    known = {s["id"] for s in raw["sources.json"]}
    for name, item in raw["policy.json"].items():
        assert item["sources"], name
        assert set(item["sources"]) <= known, name


def test_every_typical_dose_cites_the_seed(raw: dict[str, Any]) -> None:
    missing = [e["id"] for e in _entries(raw)
               if e.get("typical") and "seed" not in e["typical"].get("sources", ["seed"])]
    assert not missing


def test_memory_sourced_facts_are_never_verified(raw: dict[str, Any]) -> None:
    """Any object citing the 'memory' source that carries a verified flag has it false."""
    bad = [f"{fname}{path}" for fname in DATA_FILES for path, obj in _walk(raw[fname], "")
           if "memory" in (obj.get("sources") or ()) and "verified" in obj
           and obj["verified"] is not False]
    assert not bad, bad


@pytest.mark.parametrize(("alias", "eid"), sorted(BRAND_ALIASES.items()))
@pytest.mark.parametrize("variant", [str, str.lower, str.upper, str.swapcase,
                                     lambda s: f"  {s}\t "])
def test_brand_alias_resolves(ref: Reference, alias: str, eid: str, variant: Any) -> None:
    """Reference.get resolves a brand or generic alias in any case, ignoring surrounding spaces."""
    entry = ref.get(variant(alias))
    assert entry is not None, f"{variant(alias)!r} does not resolve"
    assert entry["id"] == eid


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_lookup_ignores_case_and_surrounding_whitespace(data: st.DataObject) -> None:
    """Every id and alias resolves to its own entry however it is cased or padded."""
    ref = load_reference(validate=True)
    names = sorted((n, eid) for eid, e in ref.entries.items()
                   for n in (eid, *e.get("aliases", ())))
    name, eid = data.draw(st.sampled_from(names))
    case = data.draw(st.sampled_from([str.lower, str.upper, str.swapcase, str.title]))
    pad = data.draw(st.tuples(st.text(" \t", max_size=3), st.text(" \t", max_size=3)))
    entry = ref.get(pad[0] + case(name) + pad[1])
    assert entry is not None
    assert entry["id"] == eid


@pytest.mark.parametrize("eid", NON_CHECKABLE)
def test_non_checkable_therapy_present_and_not_checkable(ref: Reference, eid: str) -> None:
    entry = ref.entries[eid]
    assert entry.get("checkable", True) is False
    assert ref.model(eid).checkable is False


def test_manifest_matches_current_data_files(data_dir: Path) -> None:
    """data/MANIFEST.json records the SHA-256 of every data file as it is now."""
    hint = "data/MANIFEST.json is stale: run `python -m medref._manifest` after editing data"
    manifest = json.loads((data_dir / "MANIFEST.json").read_text(encoding="utf-8"))
    per_file = digest(_read_all(data_dir))
    assert manifest.get("files") == per_file, hint
    assert manifest.get("sha256") == combined_digest(per_file), hint
    assert manifest.get("order") == list(DATA_FILES), hint


def test_default_load_reports_the_manifest_version(data_dir: Path) -> None:
    """With a current manifest, the default load is the bundled data at the manifest's version."""
    manifest = json.loads((data_dir / "MANIFEST.json").read_text(encoding="utf-8"))
    info = load_reference().info
    assert info.origin == "bundled"
    assert info.version == manifest["version"]
    assert info.sha256 == manifest["sha256"]


def test_bundled_data_dir_follows_importlib_resources() -> None:
    """bundled_data_dir() is the package's medref/data resource, else the checkout's data/."""
    packaged = resources.files("medref") / "data"
    d = bundled_data_dir()
    assert d is not None
    if packaged.is_dir():
        assert d == Path(str(packaged))
    else:
        assert d == Path(__file__).resolve().parent.parent / "data"
    for name in DATA_FILES:
        assert (d / name).is_file(), name


def test_data_loads_from_bundled_data_dir(data_dir: Path) -> None:
    """The directory bundled_data_dir() returns loads (and validates) as a data set."""
    ref = load_reference(data_dir, validate=True)
    assert set(DRUG_IDS) | set(SUPPLEMENT_IDS) <= set(ref.entries)
