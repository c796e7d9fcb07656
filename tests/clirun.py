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

INSTALLED = os.environ.get("MEDREF_TEST_BUILD") == "compiled"
"""The suite tests the installed, compiled medref rather than this checkout (``.ci/run``'s
second stage sets ``MEDREF_TEST_BUILD=compiled`` and ``PYTHONSAFEPATH=1``; conftest.py checks
that the medref imported is the compiled one). Subprocesses then get no checkout on their path."""


def with_root(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the repository first on PYTHONPATH."""
    out = dict(env)
    if INSTALLED:
        return out
    out["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), out.get("PYTHONPATH", "")) if p)
    return out
