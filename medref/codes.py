"""Finding codes: what a code means, its category and the severities it may be emitted at.

Each check module declares the :class:`Code` objects it emits (``codes = (...)``); the engine
refuses to build with a code declared twice, and refuses a finding whose code its check did not
declare or whose severity the code does not allow. ``medref codes`` prints every declared code,
and the README's code table is generated from the same declarations (a test compares them).
Codes are public contracts: never renamed, never reused for another meaning.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from medref.vocab import CATEGORIES, SEVERITIES

_CODE = re.compile(r"^MR\d{3}$")


class Code(NamedTuple):
    """One finding code.

    Attributes:
        code: ``MRnnn``.
        category: one of :data:`medref.vocab.CATEGORIES`.
        severities: the severities the code may be emitted at (least severe first). Where the
            data sets a finding's severity (a limit's, a rule's), every severity the data
            may hold is listed.
        meaning: one sentence for the code table.
    """

    code: str
    category: str
    severities: tuple[str, ...]
    meaning: str

    @property
    def severity_text(self) -> str:
        """``info/warning`` style text for tables."""
        return "/".join(self.severities)


def validate(code: Code) -> Code:
    """``code`` with its severities in order, once its shape, category and severities are
    checked.

    Raises:
        ValueError: naming the code and the bad field.
    """
    if not _CODE.match(code.code):
        raise ValueError(f"code {code.code!r}: must look like MR123")
    if code.category not in CATEGORIES:
        raise ValueError(f"code {code.code}: unknown category {code.category!r}")
    if not code.severities or any(s not in SEVERITIES for s in code.severities):
        raise ValueError(f"code {code.code}: severities must be among {SEVERITIES}")
    return code._replace(severities=tuple(s for s in SEVERITIES if s in code.severities))


ALERT_POLICY: Final = "2026.11-4"
"""The version of the alert policy (``docs/ALERT-POLICY.md``) the codes' severities follow;
reported as ``summary.alert_policy``. A change that alters a severity is a new version."""
