"""How tests run the CLI in a subprocess: ``python -m medref`` with this interpreter and the
repository on PYTHONPATH, so it works whether or not the ``medref`` console script is
installed next to the interpreter (an editable install, a plain checkout, a CI venv)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDREF = [sys.executable, "-m", "medref"]


def with_root(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the repository first on PYTHONPATH."""
    out = dict(env)
    out["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), out.get("PYTHONPATH", "")) if p)
    return out
