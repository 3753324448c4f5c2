"""Names as people write them: caseless folding, how two spellings differ, the closest known name."""

from __future__ import annotations

import difflib
import functools
import unicodedata
from collections.abc import Iterable


def closest(name: str, choices: Iterable[str]) -> str:
    """A hint naming the closest known name, or an empty string."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f"; did you mean {match[0]!r}?" if match else ""


def area_case_clashes(names: Iterable[str], stored: Iterable[str] = ()) -> dict[str, list[str]]:
    """Each of ``names`` that equals another area name ignoring case and how accents are encoded
    (``fold_name``) but is spelled differently, with those other spellings: the stored ones if
    any, else the others in ``names``. A name stored exactly as written is never refused: the
    stored spelling wins.

    Area names are matched exactly everywhere (scores, the report, the explorer), so "dorchester"
    beside "Dorchester", or "Café" with its "é" as one character beside "Café" with "e" and a
    combining accent (as some Mac and web exports write it), would silently become a second area
    holding part of the data.
    """
    names, stored = list(dict.fromkeys(names)), set(stored)
    spellings: dict[str, set[str]] = {}
    for name in {*names, *stored} - {""}:
        spellings.setdefault(fold_name(name), set()).add(name)
    clashes = {}
    for name in names:
        group = spellings[fold_name(name)] if name else set()
        if name in stored or len(group) < 2:
            continue
        kept = sorted(group & stored) or sorted(group - {name})
        clashes[name] = kept
    return clashes


def fold_name(name: str) -> str:
    """``name`` for caseless matching: Unicode's canonical caseless form (NFD, casefold, NFD),
    so "STRASSE" matches "Straße" and a precomposed "é" matches "e" plus a combining accent."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", name).casefold())


def spelling_difference(name: str, others: list[str]) -> str:
    """How ``name`` differs from ``others`` (all equal to it under ``fold_name``)."""
    if all(name.casefold() == other.casefold() for other in others):
        return "in capitals"
    nfc = unicodedata.normalize("NFC", name)
    if all(nfc == unicodedata.normalize("NFC", other) for other in others):
        return "in how its accents are encoded (the same letters, typed another way)"
    return "in capitals or in how its accents are encoded"


# Where Unicode puts its format characters (category Cf); scanning these ranges once finds them all
# without walking every code point.
_FORMAT_RANGES = ((0x0000, 0x20000), (0xE0000, 0xE0080))


@functools.cache
def format_characters() -> str:
    """A regular-expression class of the Unicode format characters (category Cf): zero-width
    spaces and joiners, bidi overrides and isolates, the byte-order mark, tags.

    They are invisible: in a name they make a second name that looks identical, and a bidi
    override reverses the rest of a terminal line, so names and areas refuse them.
    """
    found = [
        chr(code)
        for low, high in _FORMAT_RANGES
        for code in range(low, high)
        if unicodedata.category(chr(code)) == "Cf"
    ]
    return (
        "["
        + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}" for c in found)
        + "]"
    )
