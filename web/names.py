"""Names as on an identity document, and their ASCII transliteration (ICAO Doc 9303, part 3)."""

from __future__ import annotations

import unicodedata

# ICAO 9303 recommended transliterations of Latin letters with diacritics that do not simply
# lose their mark (Ä → AE, not A). Everything else: the base letter without its mark.
_ICAO_SPECIAL = {
    "Ä": "AE",
    "Æ": "AE",
    "Å": "AA",
    "Ö": "OE",
    "Ø": "OE",
    "Œ": "OE",
    "Ü": "UE",
    "ß": "SS",
    "Þ": "TH",
    "Ð": "D",
    "Đ": "D",
    "Ł": "L",
    "Ħ": "H",
    "Ŀ": "L",
    "Ŋ": "N",
    "ı": "I",
    "Ĳ": "IJ",
}


def transliterate(name: str) -> str:
    """Upper-case ASCII form of ``name`` (letters, spaces, hyphens and apostrophes kept)."""
    out: list[str] = []
    for ch in name.upper():
        special = _ICAO_SPECIAL.get(ch) or _ICAO_SPECIAL.get(ch.upper())
        if special:
            out.append(special)
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        out.append("".join(c for c in decomposed if ord(c) < 128 and not unicodedata.combining(c)))
    return " ".join("".join(out).split())


def ascii_form_if_different(name: str) -> str | None:
    """The transliteration, or None when the name is already plain ASCII (verifier/FORMAT.md §3)."""
    ascii_name = transliterate(name)
    return None if ascii_name == name.upper() or not ascii_name else ascii_name
