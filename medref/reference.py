"""Loading the reference data: validated, indexed, cached.

``load_reference()`` reads the data files shipped inside the package (or a site's own copy
given as ``data_dir``), validates them with the pydantic models in :mod:`medref.models`, and
returns a :class:`Reference` with case-insensitive lookups.

Validation is skipped only when the bytes are exactly those recorded in the shipped
``MANIFEST.json`` (which the test suite validates on every run): a start-up fast path that
never trusts a modified or site-supplied file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from medref.errors import DataError, UnknownSubstanceError
from medref.knowledge import ENTRY_FILES
from medref.suggest import Suggester
from medref.text import SALT_WORDS, normalize

if TYPE_CHECKING:
    from medref.knowledge import Ingredient, Knowledge

DATA_FILES = ("sources.json", "drugs.json", "supplements.json", "watch.json",
              "interactions.json", "policy.json", "products.json")
"""Every data set holds these files."""
OPTIONAL_FILES = {"products.json": b"[]"}
"""Files a site's older copy of the data may lack (read as this content)."""


class NameInfo(NamedTuple):
    """What a name in the index stands for beyond its canonical id."""

    id: str
    product: str | None
    salt: str | None
    base_per_salt: float | None
    strength: str | None


class CodeHit(NamedTuple):
    """What an RxNorm code stands for (:meth:`Reference.rxnorm_codes`).

    Attributes:
        rxcui: the code.
        name: a name medref reads: a product's name, an ingredient's, or the RxNorm
            normalized name of a clinical or branded drug.
        kind: ``product`` (a product strength), ``rxnorm-name`` or ``ingredient``.
        strength, form, formulation, combination: a product strength's label, dose form,
            IR/ER and whether it has several ingredients.
        verified: the code was found in a cited source.
        rank: most specific first (product 0, drug name 1, ingredient 2).
        id: the canonical id of the product or ingredient, when known.
    """

    rxcui: str
    name: str
    kind: str
    strength: str | None = None
    form: str | None = None
    formulation: str | None = None
    combination: bool = False
    verified: bool = False
    rank: int = 2
    id: str | None = None


class NdcProduct(NamedTuple):
    """A product an NDC stands for in CDC's 2018 file (:meth:`Reference.ndc_product`).

    Attributes:
        ndc: the 11-digit NDC.
        name: the product name as marketed (``NORCO``, ``OXYCODONE HCL``).
        generic: the ingredients, ``/`` between them (``Acetaminophen/hydrocodone Bitartrate``).
        form: CDC's dose form (``Tablet``, ``Tablet, Extended Release``, ``Patch, Extended
            Release`` ...).
        acting: ``SA`` (short-acting), ``LA`` (long-acting) or empty.
        drug: CDC's drug (the controlled ingredient: ``Hydrocodone SA``, ``Alprazolam``).
        strength: the controlled ingredient's strength per unit (for a combination, that
            ingredient's only), or None.
        unit: the strength's unit (``MG``, ``MCG``, ``MG/ML``, ``MCG/HR`` ...).
    """

    ndc: str
    name: str
    generic: str
    form: str
    acting: str
    drug: str
    strength: float | None
    unit: str


NDC_FILE = "ndc.json"
"""The NDC map beside the data files (read only for claims that carry an NDC)."""

RXNORM_FILE = "rxnorm.json"
"""The RxNorm drug-name map beside the data files (read only for FHIR input)."""


@dataclass(frozen=True, slots=True)
class DataInfo:
    """Which data set a result was checked against (reported in JSON output)."""

    version: str
    sha256: str
    origin: str  # "bundled" or "custom"
    path: str

    def to_dict(self) -> dict[str, str]:
        """Plain-dict form for JSON output."""
        return {"version": self.version, "sha256": self.sha256, "origin": self.origin,
                "path": self.path}


class Reference:
    """A loaded data set: the compiled :class:`~medref.knowledge.Knowledge` the checks read, the
    name index, and the validated data as plain dicts (for display and :meth:`model`).

    Immutable once built: a long-running service can hold one and swap in a new one. The only
    state it gains later is the suggestion index, built once on first use (under a lock).
    """

    __slots__ = ("_index", "_lock", "_names", "_ndc", "_rxnorm", "_suggester", "entries",
                 "entry_file",
                 "info", "knowledge", "products", "raw_policy", "raw_rules", "sources")

    def __init__(self, raw: Mapping[str, Any], info: DataInfo,
                 built: tuple[dict[str, str], dict[str, NameInfo]] | None = None) -> None:
        from medref.knowledge import compile_knowledge
        self.info = info
        self.knowledge: Knowledge = compile_knowledge(raw)
        self.sources: Mapping[str, dict[str, Any]] = MappingProxyType(
            {s["id"]: s for s in raw["sources.json"]})
        entries: dict[str, dict[str, Any]] = {}
        files: dict[str, str] = {}
        for fname in ENTRY_FILES:
            for e in raw[fname]:
                entries[e["id"]] = e
                files[e["id"]] = fname
        self.entries: Mapping[str, dict[str, Any]] = MappingProxyType(entries)
        """The validated entries as plain dicts (field names of :class:`medref.models.Entry`);
        read them, do not change them (checks read :attr:`knowledge`)."""
        self.entry_file: Mapping[str, str] = MappingProxyType(files)
        self.raw_rules: tuple[dict[str, Any], ...] = tuple(raw["interactions.json"])
        self.products: Mapping[str, dict[str, Any]] = MappingProxyType(
            {pr["id"]: pr for pr in raw.get("products.json", ())})
        """The validated products as plain dicts (display); checks read
        :attr:`knowledge` ``.products``."""
        self.raw_policy: Mapping[str, Any] = MappingProxyType(raw["policy.json"])
        if built is None:
            built = build_index(raw)
        index, names = built
        self._index: Mapping[str, str] = MappingProxyType(index)
        self._names: Mapping[str, NameInfo] = MappingProxyType(names)
        self._lock = threading.Lock()
        self._suggester: Suggester | None = None
        self._rxnorm: Mapping[str, CodeHit] | None = None
        self._ndc: tuple[list[dict[str, Any]], dict[str, int]] | None = None

    # -- typed knowledge -----------------------------------------------------------------
    @property
    def ingredients(self) -> Mapping[str, Ingredient]:
        """Every ingredient (drug, supplement, therapy, recognised agent) by canonical id."""
        return self.knowledge.ingredients

    def ingredient(self, name: str) -> Ingredient | None:
        """The compiled ingredient for an id, alias or name (any case), else None (a
        single-ingredient product's name gives its ingredient, as :meth:`get` does)."""
        entry = self.get(name)
        return self.knowledge.ingredients[entry["id"]] if entry is not None else None

    # -- lookups -------------------------------------------------------------------------
    def resolve(self, name: str) -> str | None:
        """Canonical id for a normalized name, or None.

        A name not in the index that writes a combination by its ingredients' names (each a
        name, alias or salt of an ingredient, joined by ``-``, ``/``, ``+``, ``&``, ``and``
        or ``with``: ``hydrocodone bitartrate-acetaminophen``, ``oxycodone hcl/apap``,
        ``acetaminophen-codeine phosphate #3``) is the generic product of exactly those
        ingredients, when there is one (see :func:`combination_of`)."""
        hit = self._index.get(name)
        if hit is None and _COMBO_HINT.search(name) is not None:
            info = combination_of(self, name)
            return info.id if info is not None else None
        return hit

    def names(self) -> Mapping[str, str]:
        """The name index: every normalized id, name and alias -> canonical id (of an
        ingredient or a product)."""
        return self._index

    def rxnorm_codes(self) -> Mapping[str, CodeHit]:
        """Every RxNorm code medref can read, by RxCUI: the product strengths and ingredients
        of the data (their ``rxcui`` fields) and the clinical and branded drug names of
        ``rxnorm.json``. Loaded and validated on first use (only FHIR input needs it), from
        the data directory, or the bundled copy when a custom directory has none.

        Raises:
            DataError: ``rxnorm.json`` is malformed (naming the file, code and field).
        """
        got = self._rxnorm
        if got is None:
            with self._lock:
                if self._rxnorm is None:
                    self._rxnorm = MappingProxyType(self._build_rxnorm())
                got = self._rxnorm
        return got

    def ndc_product(self, ndc: str) -> NdcProduct | None:
        """The product an 11-digit NDC stands for (CDC's 2018 file of opioids,
        benzodiazepines and muscle relaxants), or None. ``ndc.json`` is loaded and validated on
        first use (only claims with an NDC need it), from the data directory, or the bundled
        copy when a custom directory has none.

        Raises:
            DataError: ``ndc.json`` is missing or malformed (naming the file, row and field).
        """
        got = self._ndc
        if got is None:
            with self._lock:
                if self._ndc is None:
                    self._ndc = self._load_ndc()
                got = self._ndc
        products, codes = got
        row = codes.get(ndc)
        if row is None:
            return None
        p = products[row]
        st = p["strength"]
        return NdcProduct(ndc, p["name"], p["generic"], p["form"], p["acting"], p["drug"],
                          None if st is None else float(st), p["unit"])

    def _load_ndc(self) -> tuple[list[dict[str, Any]], dict[str, int]]:
        path = Path(self.info.path) / NDC_FILE
        bundled = bundled_data_dir()
        if not path.is_file() and bundled is not None:
            path = bundled / NDC_FILE
        try:
            data = json.loads(path.read_bytes())
        except OSError as exc:
            raise DataError(f"{path}: cannot read ({exc.strerror})", file=str(path)) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{path}: invalid JSON ({str(exc)[:80]})", file=str(path)) from None
        from medref._validate import validate_ndc
        return validate_ndc(data, path, set(self.sources))

    def _build_rxnorm(self) -> dict[str, CodeHit]:
        hits: dict[str, CodeHit] = {}
        path = Path(self.info.path) / RXNORM_FILE
        bundled = bundled_data_dir()
        if not path.is_file() and bundled is not None:
            path = bundled / RXNORM_FILE
        if path.is_file():
            from medref._validate import validate_rxnorm
            try:
                data = json.loads(path.read_bytes())
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise DataError(f"{path}: invalid JSON ({str(exc)[:80]})",
                                file=str(path)) from None
            for c in validate_rxnorm(data, path, set(self.sources)):
                hits[c["rxcui"]] = CodeHit(c["rxcui"], c["name"], "rxnorm-name",
                                           verified=c["verified"], rank=1)
        for eid, e in self.entries.items():
            rx = e.get("rxcui")
            if isinstance(rx, dict) and rx.get("value"):
                code = str(rx["value"])
                hits.setdefault(code, CodeHit(code, e["name"], "ingredient",
                                              verified=bool(rx.get("verified")), rank=2,
                                              id=eid))
        for pid, pr in self.products.items():
            for st in pr["strengths"]:
                code = st.get("rxcui")
                if code:
                    hits[str(code)] = CodeHit(
                        str(code), pr["name"], "product", st["label"], pr.get("dose_form"),
                        pr.get("formulation"), len(pr["ingredients"]) > 1,
                        bool(st.get("verified", pr.get("verified", False))), 0, pid)
        return hits

    def name_info(self, name: str) -> NameInfo | None:
        """What a normalized name says beyond its id: the product it names, a salt (and how
        much ingredient one unit holds), or the strength it implies; None for a plain
        ingredient name."""
        hit = self._names.get(name)
        if hit is None and name not in self._index and _COMBO_HINT.search(name) is not None:
            return combination_of(self, name)
        return hit

    def get(self, name: str, default: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The entry (plain dict) for an id, alias or name (any case, spaces ignored), else
        ``default``. A single-ingredient product's name (``Motrin``) gives its ingredient's
        entry; a combination product's (``Percocet``) gives ``default``: see :meth:`product`.
        """
        eid = self.resolve(normalize(name))
        if eid is None:
            return default
        entry = self.entries.get(eid)
        if entry is not None:
            return entry
        ingredients = self.products[eid]["ingredients"]
        return self.entries[ingredients[0]] if len(ingredients) == 1 else default

    def products_of(self, ingredient: str) -> list[dict[str, Any]]:
        """The products that contain an ingredient (by canonical id), in file order."""
        return [p for p in self.products.values() if ingredient in p["ingredients"]]

    def product(self, name: str) -> dict[str, Any] | None:
        """The marketed product (plain dict, fields of :class:`medref.models.Product`) a name,
        alias or product id names (``Percocet``, ``Tylenol #3``), else None."""
        pid = self.resolve(normalize(name))
        return self.products.get(pid) if pid is not None else None

    def lookup(self, name: str) -> dict[str, Any]:
        """Like :meth:`get` but raises :class:`UnknownSubstanceError` with suggestions."""
        entry = self.get(name)
        if entry is None:
            raise UnknownSubstanceError(name.strip(), self.suggest(name))
        return entry

    def suggest(self, name: str, n: int = 3) -> tuple[str, ...]:
        """Closest known names (ids, names or aliases) to ``name``, best first."""
        return self.suggest_normalized(normalize(name), n)

    def suggest_normalized(self, key: str, n: int = 3) -> tuple[str, ...]:
        """:meth:`suggest` for a name already normalized (:func:`medref.text.normalize`)."""
        s = self._suggester
        if s is None:
            with self._lock:
                if self._suggester is None:
                    self._suggester = Suggester(self._index, owners={
                        pid: " + ".join(pr["ingredients"])
                        for pid, pr in self.products.items()})
                s = self._suggester
        return s.suggest(key, n)

    def search(self, text: str) -> list[dict[str, Any]]:
        """Entries whose id, name, aliases, classes or texts contain ``text`` (any case)."""
        t = text.casefold().strip()
        hits = []
        for e in self.entries.values():
            hay = " ".join([e["id"], e["name"], *e.get("aliases", ()), *e.get("classes", ()),
                            e.get("function") or "", e.get("mechanism") or "",
                            e.get("bone_healing", {}).get("rationale", "")]).casefold()
            if t in hay:
                hits.append(e)
        return hits

    def by_kind(self, *kinds: str) -> Iterator[dict[str, Any]]:
        """Entries of the given kinds, in file order."""
        return (e for e in self.entries.values() if e["kind"] in kinds)

    def source_label(self, ids: list[str] | tuple[str, ...], verified: bool = True) -> str:
        """Short citation text for source ids, marking unverified facts."""
        return self.knowledge.cite(tuple(ids), verified)

    def model(self, eid: str) -> Any:
        """The typed pydantic :class:`medref.models.Entry` (or :class:`medref.models.Product`
        for a product id) for an id (validated).

        Raises:
            KeyError: not an entry or product id.
        """
        from medref.models import Entry, Product
        if eid in self.entries:
            return Entry.model_validate(self.entries[eid])
        return Product.model_validate(self.products[eid])


def build_index(raw: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, NameInfo]]:
    """The name index of a data set (every normalized id, name, alias, salt and product name
    -> canonical id) and what each name says beyond its id (:class:`NameInfo`)."""
    entries = [e for fname in ENTRY_FILES for e in raw[fname]]
    index: dict[str, str] = {}
    names: dict[str, NameInfo] = {}
    for e in entries:
        eid = e["id"]
        index[normalize(eid)] = eid
        index[normalize(eid.replace("-", " "))] = eid
        index.setdefault(normalize(e["name"]), eid)
        for alias in e.get("aliases", ()):
            index[normalize(alias)] = eid
        for salt in e.get("salts", ()):
            for name in salt["names"]:
                k = normalize(name)
                index[k] = eid
                names[k] = NameInfo(eid, None, name, float(salt["base_per_salt"]), None)
    for pr in raw.get("products.json", ()):
        pid = pr["id"]
        for name in (pid, pid.replace("-", " "), pr["name"], *pr.get("aliases", ())):
            k = normalize(name)
            index[k] = pid
            names.setdefault(k, NameInfo(pid, pid, None, None, None))
        # numbered strengths: a label "#3 (300/30)", or a named strength "<name> #3"
        numbered: dict[str, str] = {}
        for ns in pr.get("named_strengths", ()):
            k = normalize(ns["name"])
            index[k] = pid
            names[k] = NameInfo(pid, pid, None, None, ns["strength"])
            m = _NUMBERED.fullmatch(k)
            if m is not None:
                numbered.setdefault(m.group(2), ns["strength"])
                spelled = normalize(f"{m.group(1)} no. {m.group(2)}")  # "Tylenol no. 2"
                if spelled not in index:
                    index[spelled] = pid
                    names[spelled] = NameInfo(pid, pid, None, None, ns["strength"])
        for st in pr["strengths"]:
            num = st["label"].split(" ")[0]
            if num.startswith("#") and num[1:].isdigit():
                numbered[num[1:]] = st["label"]
        # "<any name> #3", "... no. 3" (not after a name with a number of its own: T3)
        for n, label in numbered.items():
            for name in (pr["name"], *pr.get("aliases", ())):
                if name[-1:].isdigit():
                    continue
                for spelled in (f"{name} #{n}", f"{name} no. {n}"):
                    k = normalize(spelled)
                    if k not in index:
                        index[k] = pid
                        names[k] = NameInfo(pid, pid, None, None, label)
    return index, names


_COMBO_HINT = re.compile(r"[-/+&]| and | with ")
_DIGIT = re.compile(r"\d")
_COMBO_SEP = re.compile(r" ?[-/+&] ?| and | with ")
_COMBO_NUMBER = re.compile(r"(.*\S) (#\d+|no\. ?\d+)")


def combination_of(reference: Reference, name: str) -> NameInfo | None:
    """The generic combination product a normalized name writes by its ingredients' names
    (``hydrocodone bitartrate-acetaminophen``: hydrocodone-acetaminophen), with the strength
    a trailing number names (``acetaminophen-codeine phosphate #3``: 300/30), or None.

    Each part must name an ingredient (by its name, one of its aliases, ``Tylenol`` is
    acetaminophen's, or a salt; a product's name such as Percocet does not count), no
    ingredient twice, and the product must be the *generic* line of exactly those
    ingredients: the one whose id is their ids joined by ``-`` (``hydrocodone-acetaminophen``;
    a brand such as Norco is never chosen, and a set with no generic line, such as aspirin
    with codeine, is not resolved). A number the product does not have is not read (the
    shorter name without it is). A sig line is read as such a combination only when it
    states one of the product's strengths (:func:`medref.readers.lines.read_sig`): without
    one, ``tylenol and tramadol`` may be two drugs."""
    m = _COMBO_NUMBER.fullmatch(name) if "#" in name or "no." in name else None
    base, number = (m.group(1), m.group(2)) if m is not None else (name, None)
    if _DIGIT.search(base) is not None:  # most candidates: a prefix of a sig ("... 10/325 1")
        return None
    ids = _ingredient_parts(reference, base, ())
    if ids is None:
        return None
    pid = reference.knowledge.generic_products.get(frozenset(ids))
    if pid is None:
        return None
    if number is None:
        return NameInfo(pid, pid, None, None, None)
    digits = number.lstrip("#no. ")
    numbered = reference._names.get(normalize(f"{reference.products[pid]['name']} #{digits}"))
    if numbered is None or numbered.product != pid or numbered.strength is None:
        return None
    return NameInfo(pid, pid, None, None, numbered.strength)


def _ingredient_parts(reference: Reference, text: str, ids: tuple[str, ...]
                      ) -> tuple[str, ...] | None:
    """``text`` as two to four ingredients' names joined by separators, after ``ids``
    (each split is tried, so a name with a hyphen of its own, ``n-acetyl-p-aminophenol``,
    stays whole), or None."""
    for m in (None, *_COMBO_SEP.finditer(text)):
        part = text if m is None else text[:m.start()]
        eid = reference._index.get(part)
        if eid is None and part.rpartition(" ")[2] in SALT_WORDS:  # "oxycodone hcl"
            eid = reference._index.get(part.rpartition(" ")[0])
        if eid is None or eid not in reference.knowledge.ingredients or eid in ids:
            continue
        if m is None:
            if len(ids) >= 1:
                return (*ids, eid)
            continue
        if len(ids) < 3:
            got = _ingredient_parts(reference, text[m.end():], (*ids, eid))
            if got is not None:
                return got
    return None


_NUMBERED = re.compile(r"(.*\S) #(\d+)")
"""A named strength of a numbered product line: ``Tylenol #3``, ``APAP/codeine #3``."""


# -- loading -------------------------------------------------------------------------------

_lock = threading.Lock()
_cache: dict[str, Reference] = {}


def bundled_data_dir() -> Path | None:
    """The data directory shipped in the package, or the source checkout's ``data/``."""
    here = Path(__file__).resolve().parent
    for cand in (here / "data", here.parent / "data"):  # a wheel; an editable/source checkout
        if (cand / "drugs.json").is_file():
            return cand
    from importlib import resources  # a zipped or otherwise unusual install
    root = resources.files("medref") / "data"
    return Path(str(root)) if root.is_dir() else None


def load_reference(data_dir: str | Path | None = None, *, validate: bool | None = None
                   ) -> Reference:
    """Load, validate and index the reference data (cached per directory).

    Args:
        data_dir: a site's own copy of the data files; default the bundled data.
        validate: force (True) full validation; by default the bundled data skips it when its
            bytes match the validated ``MANIFEST.json``, and a custom ``data_dir`` is always
            validated.

    Raises:
        DataError: a file is missing, unreadable or invalid; the message names the file,
            the entry and the field.
    """
    custom = data_dir is not None
    base = Path(data_dir) if data_dir is not None else bundled_data_dir()
    if base is None:
        raise DataError("the bundled data files are missing from this installation")
    key = f"{base}|{validate}|{custom}"
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        ref = _load(base, custom=custom, validate=validate)
        _cache[key] = ref
        return ref


def _read_all(base: Path) -> dict[str, bytes]:
    if not base.is_dir():
        raise DataError(f"{base}: data directory not found", file=str(base))
    out = {}
    for name in DATA_FILES:
        p = base / name
        try:
            out[name] = p.read_bytes()
        except FileNotFoundError:
            if name in OPTIONAL_FILES:
                out[name] = OPTIONAL_FILES[name]
                continue
            raise DataError(f"{p}: data file missing", file=str(p)) from None
        except OSError as exc:
            raise DataError(f"{p}: cannot read data file ({exc.strerror})", file=str(p)) from None
    return out


def digest(blobs: dict[str, bytes]) -> dict[str, str]:
    """SHA-256 of each data file's bytes."""
    return {name: hashlib.sha256(b).hexdigest() for name, b in blobs.items()}


def combined_digest(per_file: dict[str, str]) -> str:
    """One SHA-256 over the per-file digests, in file order."""
    h = hashlib.sha256()
    for name in DATA_FILES:
        h.update(f"{name}:{per_file[name]}\n".encode())
    return h.hexdigest()


def _manifest(base: Path) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = json.loads((base / "MANIFEST.json").read_bytes())
    except (OSError, ValueError):
        return None
    return loaded


def _load(base: Path, *, custom: bool, validate: bool | None) -> Reference:
    blobs = _read_all(base)
    per_file = digest(blobs)
    combined = combined_digest(per_file)
    cached = _cache_read(combined)
    raw: dict[str, Any]
    if cached is not None:
        raw, built = cached
    else:
        raw, built = {}, None
        for name, b in blobs.items():
            try:
                raw[name] = json.loads(b)
            except UnicodeDecodeError:
                raise DataError(f"{base / name}: not UTF-8 text",
                                file=str(base / name)) from None
            except json.JSONDecodeError as exc:
                raise DataError(f"{base / name}: invalid JSON at line {exc.lineno} column "
                                f"{exc.colno}: {exc.msg}", file=str(base / name)) from None
    manifest = _manifest(base)
    trusted = (not custom and manifest is not None and manifest.get("files") == per_file)
    if validate or (validate is None and not trusted):
        from medref._validate import validate_raw
        validate_raw(raw, base)
    # a manifest's version names the data only when it describes exactly these bytes
    matches = manifest is not None and manifest.get("files") == per_file
    version = manifest.get("version", "unversioned") if matches and manifest else "custom"
    info = DataInfo(version=str(version), sha256=combined,
                    origin="custom" if custom else "bundled", path=str(base))
    if built is None:
        built = build_index(raw)
        _cache_write(combined, raw, built)
    return Reference(raw, info, built)


# -- a content-addressed cache of the parsed data ------------------------------------------
#
# Parsing the JSON files and building the name index is most of what loading costs (about
# 10 ms of a CLI run). Both depend only on the files' bytes, so they are kept, keyed by the
# SHA-256 of those bytes (computed on every load anyway), in the user's cache directory as one
# compact JSON document (data, never code or serialized objects). A cache that cannot be read
# or written, or does not have the expected shape, is ignored: it only saves time.
# $MEDREF_CACHE_DIR picks the directory; an empty value turns the cache off.

_CACHE_FORMAT = 3
"""The cache's format number, in its file names: raise it whenever what is cached would come
out differently from the same bytes, i.e. when :func:`build_index` or
:func:`medref.text.normalize` changes (2: ``w/`` before a word gets a space; 3: ``w/`` is
written ``with``, and a numbered named strength is also indexed as ``no. N`` and after the
product's other names). Files of an older number are never read and are removed. The file
names also carry :func:`_code_key`, a digest of this medref's version and of those two
modules' source, so changed code is never served an older index even without the bump."""


def _cache_dir() -> Path | None:
    env = os.environ.get("MEDREF_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "medref"


_code_key_memo: list[str] = []


def _code_key() -> str:
    """What the cached index depends on besides the data's bytes: this medref's version, the
    format number, and the source of the code that folds and indexes names (``text.py`` and
    this module, where installed as source; the compiled build installs them too). A change
    to either gives a new key, so a forgotten :data:`_CACHE_FORMAT` bump cannot serve an index
    built by older code (computed once per process: two small files hashed)."""
    if not _code_key_memo:
        from medref._version import __version__
        h = hashlib.sha256(f"{__version__}|{_CACHE_FORMAT}".encode())
        here = Path(__file__).resolve().parent
        for name in ("text.py", "reference.py"):
            with contextlib.suppress(OSError):
                h.update(name.encode() + (here / name).read_bytes())
        _code_key_memo.append(h.hexdigest()[:12])
    return _code_key_memo[0]


def _cache_path(combined: str) -> Path | None:
    d = _cache_dir()
    if d is None:
        return None
    return d / f"data-{combined[:32]}-{_code_key()}-v{_CACHE_FORMAT}.json"


def _cache_read(combined: str) -> tuple[dict[str, Any], tuple[dict[str, str],
                                                             dict[str, NameInfo]]] | None:
    path = _cache_path(combined)
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    with contextlib.suppress(OSError):  # used now: the last to be pruned
        os.utime(path)
    try:
        key, raw, index, names = json.loads(data)
        if (key != f"{combined}-{_code_key()}" or not isinstance(raw, dict)
                or set(raw) != set(DATA_FILES) or not isinstance(index, dict)
                or not isinstance(names, dict)):
            return None
        return raw, (index, {k: NameInfo(*v) for k, v in names.items()})
    except (ValueError, TypeError):  # a damaged or foreign cache file is ignored (rewritten)
        return None


def _cache_write(combined: str, raw: dict[str, Any],
                 built: tuple[dict[str, str], dict[str, NameInfo]]) -> None:
    path = _cache_path(combined)
    if path is None:
        return
    try:
        index, names = built
        blob = json.dumps([f"{combined}-{_code_key()}", raw, index,
                           {k: list(v) for k, v in names.items()}],
                          separators=(",", ":"), ensure_ascii=False).encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, path)
    except (OSError, ValueError):
        return
    _cache_prune(path.parent, path)


CACHE_KEEP = 8
"""Data sets the cache keeps: the most recently used (a hit refreshes a file's time)."""


def _cache_prune(directory: Path, keep: Path) -> None:
    """Drop all but the :data:`CACHE_KEEP` most recently used data sets (``keep`` always
    stays), and the files of older cache formats (not JSON, or JSON of an older format number;
    a newer version's files are left alone)."""
    import re
    suffix = f"-v{_CACHE_FORMAT}.json"
    try:
        ours: list[tuple[float, Path]] = []
        for f in directory.glob("data-*"):
            if f.name.endswith(suffix):
                if f != keep:
                    ours.append((f.stat().st_mtime, f))
                continue
            older = re.fullmatch(r"data-[0-9a-f]+(?:-[0-9a-f]+)?-v(\d+)\.json", f.name)
            if not f.name.endswith(".json") or (older and int(older[1]) < _CACHE_FORMAT):
                f.unlink(missing_ok=True)  # left by an older version: never read again
        ours.sort(reverse=True)
        for _, f in ours[CACHE_KEEP - 1:]:
            f.unlink(missing_ok=True)
    except OSError:  # another process pruned first, or the directory went away
        return
