"""Text folding shared by the readers and the name index (no other medref imports)."""

from __future__ import annotations

import re
import unicodedata

_DASH_CHARS = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_DASHES = dict.fromkeys(map(ord, _DASH_CHARS), "-")
_DASHES.update({ord("\u00d7"): "x", ord("\u00b5"): "u", ord("\u03bc"): "u"})
_SPACES = dict.fromkeys(map(ord, "\t\n\r\v\f\x1c\x1d\x1e\x1f\x85\u2028\u2029"), " ")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d(?![\d,]))")
_COLON = re.compile(r"(?<!\d):|:(?!\d)")

SALT_WORDS = frozenset({
    "hydrochloride", "hcl", "sulfate", "bitartrate", "tartrate", "citrate", "phosphate",
    "maleate", "mesylate", "besylate", "succinate", "fumarate", "acetate", "bromide",
    "hydrobromide", "napsylate", "besilate", "trihydrate", "monohydrate", "dihydrate"})
"""Salt words after an ingredient name that does not name a converted salt: RxNorm names the
salt the label states the strength of (``oxycodone hydrochloride 10 MG``), and medref's
amounts for these ingredients are of the same labeled salt. A combination written by its
ingredients' names may name them so too (``oxycodone hcl-acetaminophen``)."""

_WITH = re.compile(r"(?<![a-z0-9])w/(?!(?:o|out|in)\b) ?(?=[a-z]{2})")


def normalize(text: str) -> str:
    """Fold a line for matching: NFKC, lower case, one kind of dash, single spaces.

    Control characters and bidirectional marks are removed; a comma between digit groups
    (``1,000``) is kept as a thousands separator, a comma before one last digit is a
    decimal comma (``1,5 g`` is 1.5 g, never 5 g; ``1,00`` stays ambiguous and is reported
    by the sig reader), other commas become spaces, and so does a
    colon that is not part of a time (``5 mg tablet: take 1``, but ``8:00``). ``w/`` before a
    word, with or without a space, is written ``with`` (``Tylenol w/codeine #3`` and ``Tylenol
    w/ Codeine #2`` read as ``tylenol with codeine #3`` and ``#2``, ``w/ food`` as ``with
    food``; ``w/o``, ``w/out`` and ``w/in`` are left alone). The name index is built with this
    function and cached: a change here must raise ``medref.reference._CACHE_FORMAT``.
    """
    if text.isascii():  # NFKC and the dash table change nothing in ASCII
        s = text.lower().translate(_SPACES)
    else:
        s = unicodedata.normalize("NFKC", text).translate(_DASHES).casefold()
        s = s.translate(_SPACES)
    if not (s.isascii() and s.isprintable()):
        s = "".join(c for c in s if unicodedata.category(c)[0] != "C")
    s = _THOUSANDS.sub("", s)
    if "," in s:
        s = _DECIMAL_COMMA.sub(".", s)
    if ":" in s:
        s = _COLON.sub(" ", s)
    s = s.replace(",", " ").replace(";", " ")
    if "w/" in s:  # "w/codeine" and "w/ codeine" alike (not "w/o", "w/out", "w/in")
        s = _WITH.sub("with ", s)
    return " ".join(s.split())


def clean_text(text: str) -> str:
    """Replace lone UTF-16 surrogates (which cannot be written as UTF-8) with U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
