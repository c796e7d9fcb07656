"""Shared test settings.

No test depends on how fast the machine is: a subprocess is given :data:`HANG_SECONDS` before it
counts as hung, a ceiling far above any real run (the slowest case takes well under a minute on
a quiet 2-core machine). Speed is measured in ``benchmarks/``, never asserted here.
"""

from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, settings

HANG_SECONDS = 900.0
"""Wall-clock seconds after which a subprocess or a wait counts as a hang."""

# Property tests never fail for being slow: no per-example deadline, no too-slow health check.
settings.register_profile("medref", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("medref")

# The parsed-data cache (medref/reference.py) goes to a private directory for the test run, so
# tests never read a cache another run left behind and never write to the user's.
if "MEDREF_CACHE_DIR" not in os.environ:
    os.environ["MEDREF_CACHE_DIR"] = tempfile.mkdtemp(prefix="medref-test-cache-")

# Which medref this run tests: the checkout (pure Python), or with MEDREF_TEST_BUILD=compiled the
# installed mypyc build (.ci/run's second stage). A compiled run that imports the checkout, or an
# uncompiled install, would pass without testing what it claims to: it stops at once.
_WANT = os.environ.get("MEDREF_TEST_BUILD", "checkout")


def pytest_report_header() -> str:
    import medref
    from medref._version import build
    return f"medref under test: {os.path.dirname(medref.__file__ or '')} ({build()})"


def pytest_configure() -> None:
    if _WANT != "compiled":
        return
    import pytest

    import medref
    from medref._version import build
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    where = os.path.abspath(medref.__file__ or "")
    # the checkout's own package (a venv inside the checkout, as .ci/run makes, is fine)
    if os.path.dirname(where) == os.path.join(root, "medref") or build() != "compiled":
        raise pytest.UsageError(f"MEDREF_TEST_BUILD=compiled, but medref is {build()} from "
                                f"{where} (install the compiled build; set PYTHONSAFEPATH=1)")
