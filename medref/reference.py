"""Loading the reference data: validated, indexed, cached.

``load_reference()`` reads the data files shipped inside the package (or a site's own copy
given as ``data_dir``), validates them with the pydantic models in :mod:`medref.models`, and
returns a :class:`Reference` with case-insensitive lookups.

Validation is skipped only when the bytes are exactly those recorded in the shipped
``MANIFEST.json`` (which the test suite validates on every run): a start-up fast path that
never trusts a modified or site-supplied file.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from medref.errors import DataError, UnknownSubstanceError
from medref.sig import normalize

DATA_FILES = ("sources.json", "drugs.json", "supplements.json", "watch.json",
              "interactions.json", "policy.json")
"""Every data set holds these files."""

ENTRY_FILES = ("drugs.json", "supplements.json", "watch.json")


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
    """The loaded reference: entries, aliases, interaction rules, sources and policy.

    Entries are plain dicts with the field names of :class:`medref.models.Entry` (validated).
    Use :meth:`model` for the typed pydantic view of one entry.
    """

    def __init__(self, raw: dict[str, Any], info: DataInfo) -> None:
        self.info = info
        self.sources: dict[str, dict[str, Any]] = {s["id"]: s for s in raw["sources.json"]}
        self.entries: dict[str, dict[str, Any]] = {}
        self.entry_file: dict[str, str] = {}
        for fname in ENTRY_FILES:
            for e in raw[fname]:
                self.entries[e["id"]] = e
                self.entry_file[e["id"]] = fname
        self.rules: list[dict[str, Any]] = list(raw["interactions.json"])
        self.policy: dict[str, Any] = raw["policy.json"]
        self._index: dict[str, str] = {}
        for eid, e in self.entries.items():
            self._index[normalize(eid)] = eid
            self._index[normalize(eid.replace("-", " "))] = eid
            self._index.setdefault(normalize(e["name"]), eid)
            for alias in e.get("aliases", ()):
                self._index[normalize(alias)] = eid
        self._models: dict[str, Any] = {}
        self.memo: dict[str, Any] = {}
        """Per-reference memo for the check engine (bounded; see medref.engine)."""
        self._suggest_cache: dict[str, tuple[str, ...]] = {}
        self.rule_sets: list[tuple[dict[str, Any], dict[str, frozenset[str]]]] = [
            (r, {k: self._select(r.get(k, ())) for k in ("a", "b", "members", "requires")})
            for r in self.rules]

    def _select(self, selectors: Any) -> frozenset[str]:
        """Entry ids matched by selectors (ids or ``class:NAME``)."""
        out: set[str] = set()
        for sel in selectors:
            if sel.startswith("class:"):
                out.update(eid for eid, e in self.entries.items()
                           if sel[6:] in e.get("classes", ()))
            elif sel in self.entries:
                out.add(sel)
        return frozenset(out)

    # -- lookups -------------------------------------------------------------------------
    def resolve(self, name: str) -> str | None:
        """Canonical id for a normalized name, or None."""
        return self._index.get(name)

    def get(self, name: str, default: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The entry for an id, alias or name (any case, spaces ignored), else ``default``."""
        eid = self._index.get(normalize(name))
        return self.entries[eid] if eid is not None else default

    def lookup(self, name: str) -> dict[str, Any]:
        """Like :meth:`get` but raises :class:`UnknownSubstanceError` with suggestions."""
        entry = self.get(name)
        if entry is None:
            raise UnknownSubstanceError(name.strip(), self.suggest(name))
        return entry

    def suggest(self, name: str, n: int = 3) -> tuple[str, ...]:
        """Closest known names (ids, names or aliases) to ``name``, best first."""
        key = normalize(name)
        hit = self._suggest_cache.get(key)
        if hit is not None:
            return hit[:n]
        import difflib
        close = difflib.get_close_matches(key, list(self._index), n=n * 3, cutoff=0.6) or (
            difflib.get_close_matches(key, list(self._index), n=n * 3, cutoff=0.4))
        out: list[str] = []
        seen: set[str] = set()
        for c in close:
            eid = self._index[c]
            if eid in seen:
                continue
            seen.add(eid)
            out.append(eid if c in (eid, eid.replace("-", " ")) else f"{c} ({eid})")
        result = tuple(out[:n])
        if len(self._suggest_cache) < 100_000:
            self._suggest_cache[key] = result
        return result

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
        parts = [self.sources[s]["short"] if s in self.sources else s for s in ids]
        text = "; ".join(dict.fromkeys(parts))
        return text if verified or "not verified" in text else f"{text} (unverified)"

    def model(self, eid: str) -> Any:
        """The typed :class:`medref.models.Entry` for an id (validated, cached)."""
        if eid not in self._models:
            from medref.models import Entry
            self._models[eid] = Entry.model_validate(self.entries[eid])
        return self._models[eid]


# -- loading -------------------------------------------------------------------------------

_lock = threading.Lock()
_cache: dict[str, Reference] = {}


def bundled_data_dir() -> Path | None:
    """The data directory shipped in the package, or the source checkout's ``data/``."""
    root = resources.files("medref") / "data"
    if root.is_dir():
        return Path(str(root))
    checkout = Path(__file__).resolve().parent.parent / "data"  # editable/source checkout
    return checkout if (checkout / "drugs.json").is_file() else None


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
    raw: dict[str, Any] = {}
    for name, b in blobs.items():
        try:
            raw[name] = json.loads(b)
        except UnicodeDecodeError:
            raise DataError(f"{base / name}: not UTF-8 text", file=str(base / name)) from None
        except json.JSONDecodeError as exc:
            raise DataError(f"{base / name}: invalid JSON at line {exc.lineno} column "
                            f"{exc.colno}: {exc.msg}", file=str(base / name)) from None
    per_file = digest(blobs)
    manifest = _manifest(base)
    trusted = (not custom and manifest is not None and manifest.get("files") == per_file)
    if validate or (validate is None and not trusted):
        from medref._validate import validate_raw
        validate_raw(raw, base)
    # a manifest's version names the data only when it describes exactly these bytes
    matches = manifest is not None and manifest.get("files") == per_file
    version = manifest.get("version", "unversioned") if matches and manifest else "custom"
    info = DataInfo(version=str(version), sha256=combined_digest(per_file),
                    origin="custom" if custom else "bundled", path=str(base))
    return Reference(raw, info)
