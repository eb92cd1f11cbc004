"""Identifiers and search keys of people: PNC ID check letters, normalised names."""
from __future__ import annotations

import re
import unicodedata

PNC_PATTERN = re.compile(r"^(\d{2})/(\d{1,7})([A-Z])$")
PNC_CHECK_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"  # 0 -> Z, 1 -> A, ... without I, O and S


def pnc_check_letter(year: int, serial: int) -> str:
    """The check letter of a PNC ID: (year * 10^7 + serial) mod 23, mapped to a letter."""
    return PNC_CHECK_LETTERS[(year * 10**7 + serial) % 23]


def normalise_pnc_id(value: str) -> str:
    """'98/12345e' -> '98/0012345E'; ValueError naming what is wrong."""
    match = PNC_PATTERN.match(value.strip().upper())
    if not match:
        raise ValueError("must look like YY/NNNNNNND: two-digit year, serial of up to 7 digits, check letter")
    year, serial, letter = int(match[1]), int(match[2]), match[3]
    expected = pnc_check_letter(year, serial)
    if letter != expected:
        raise ValueError(f"check letter does not match the year and serial (expected {expected})")
    return f"{year:02d}/{serial:07d}{letter}"


def name_key(value: str) -> str:
    """A name as it is matched: accents dropped, upper case, punctuation gone, spaces single."""
    decomposed = unicodedata.normalize("NFKD", value)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = re.sub(r"['’`]", "", letters.upper())
    cleaned = re.sub(r"[^A-Z0-9]+", " ", cleaned)
    return cleaned.strip()
