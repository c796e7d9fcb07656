"""Write ``data/MANIFEST.json``: the data version and each file's SHA-256.

Run ``python -m medref._manifest [VERSION]`` after editing a data file. It validates the data
first; the manifest lets start-up skip re-validating bytes that were validated here (the test
suite re-validates them on every run and checks the manifest is current).
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from medref.reference import DATA_FILES, _read_all, bundled_data_dir, combined_digest, digest


def write_manifest(base: Path, version: str | None = None) -> dict[str, object]:
    """Validate the data set in ``base`` and write its manifest. Returns the manifest."""
    from medref._validate import validate_raw
    blobs = _read_all(base)
    validate_raw({k: json.loads(v) for k, v in blobs.items()}, base)
    old = {}
    with contextlib.suppress(OSError, ValueError):
        old = json.loads((base / "MANIFEST.json").read_text())
    files = digest(blobs)
    manifest = {"version": version or old.get("version", "1"), "files": files,
                "sha256": combined_digest(files), "order": list(DATA_FILES)}
    (base / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


if __name__ == "__main__":
    base = bundled_data_dir()
    if base is None:
        sys.exit("no data directory found")
    m = write_manifest(base, sys.argv[1] if len(sys.argv) > 1 else None)
    print(f"{base / 'MANIFEST.json'}: version {m['version']}, sha256 {m['sha256']}")
