"""Identifiers of people: PNC ID check letters, other identifiers, partial dates of birth, normalised names."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

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


APOSTROPHES = re.compile(r"['’`]")
NOT_NAME = re.compile(r"[^A-Z0-9]+")


@lru_cache(maxsize=100_000)  # names repeat: a bulk import asks for the same few thousand again and again
def name_key(value: str) -> str:
    """A name as it is matched: accents dropped, upper case, punctuation gone, spaces single."""
    decomposed = unicodedata.normalize("NFKD", value)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return NOT_NAME.sub(" ", APOSTROPHES.sub("", letters.upper())).strip()


PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
IDENTIFIER_KINDS = ("cro", "ni_number", "passport", "driving_licence")
NI_NUMBER = re.compile(r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")
CRO_NUMBER = re.compile(r"^[0-9]{1,6}/[0-9]{2}[A-Z]$")
LOOSE = re.compile(r"^[A-Z0-9]{5,20}$")


def normalise_identifier(kind: str, value: str) -> str:
    """The stored form of an identifier: upper case, spaces gone; the shape checked where it is known."""
    compact = re.sub(r"[\s-]", "", value.upper())
    if kind == "ni_number":
        if not NI_NUMBER.match(compact):
            raise ValueError("must be a National Insurance number such as AB123456C")
    elif kind == "cro":
        if not CRO_NUMBER.match(compact):
            raise ValueError("must be a CRO number such as 123456/89X")
    elif not LOOSE.match(compact):
        raise ValueError("must be 5 to 20 letters and digits")
    return compact


def search_identifier(value: str) -> tuple[str | None, str]:
    """An identifier as typed in a search: (the PNC ID if it is one, the compact form for other kinds)."""
    try:
        pnc = normalise_pnc_id(value)
    except ValueError:
        pnc = None
    return pnc, re.sub(r"[\s-]", "", value.upper())


@dataclass(frozen=True)
class PartialDate:
    """A date of birth known to the day, the month or the year; stored as its first day and a precision."""

    date: date
    precision: str  # day | month | year

    @classmethod
    def parse(cls, value: str) -> "PartialDate":
        match = PARTIAL_DATE.fullmatch(value.strip())
        if not match:
            raise ValueError("must be a date (YYYY-MM-DD), a year and month (YYYY-MM) or a year (YYYY)")
        year, month, day = int(match[1]), int(match[2] or 1), int(match[3] or 1)
        try:
            first = date(year, month, day)
        except ValueError as exc:
            raise ValueError(f"is not a real date ({exc})") from None
        return cls(first, "day" if match[3] else "month" if match[2] else "year")

    def __str__(self) -> str:
        if self.precision == "year":
            return f"{self.date.year:04d}"
        if self.precision == "month":
            return f"{self.date.year:04d}-{self.date.month:02d}"
        return self.date.isoformat()
