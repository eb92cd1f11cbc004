"""Identifiers of people: PNC ID check letters, other identifiers, partial dates of birth, normalised names."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from anyascii import anyascii

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
LETTERS = ("Lu", "Ll", "Lt", "Lo")  # a name needs one (Lm modifiers and Mn marks only go with letters)
# Control characters, and the invisible ones that reorder text (bidirectional embeddings, overrides, isolates)
# or break lines: none belongs in a name. Zero-width joiners (ZWJ, ZWNJ) do: Persian and Indic spelling uses them.
CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")


def has_control_characters(value: str) -> bool:
    """Whether the text holds a control character or one of the invisible ones that reorder it (CONTROLS): text
    shown to officers must read as it is."""
    return any(unicodedata.category(c) in ("Cc", "Cs") or c in CONTROLS for c in value)


def check_name(value: str) -> str | None:
    """Why a name cannot be recorded (a control character in it, or no letter at all), or None."""
    if has_control_characters(value):
        return "must not contain control characters (tabs, new lines, escapes, direction overrides)"
    if not any(unicodedata.category(c) in LETTERS for c in value):
        return "must contain a letter"
    return None


def _latin_script(value: str) -> bool:
    return all(unicodedata.category(c) not in LETTERS or unicodedata.name(c, "").startswith("LATIN")
               for c in value)


def _words(value: str) -> str:
    """The name's letters, marks, digits and apostrophes; everything else (punctuation, symbols, joiners) a space."""
    return "".join(c if unicodedata.category(c)[0] in "LMN" or APOSTROPHES.match(c) else
                   "" if unicodedata.category(c) == "Cf" else " " for c in unicodedata.normalize("NFKC", value))


@lru_cache(maxsize=100_000)  # names repeat: a bulk import asks for the same few thousand again and again
def latin_key(value: str) -> str:
    """A name in Latin letters as it is matched: transliterated from any script (anyascii: 王秀英 -> WANGXIUYING,
    Ольга -> OLGA), accents dropped, upper case, apostrophes and punctuation gone, spaces single."""
    text = value if value.isascii() else anyascii(_words(value))
    return NOT_NAME.sub(" ", APOSTROPHES.sub("", text.upper())).strip()


@lru_cache(maxsize=100_000)
def script_key(value: str) -> str:
    """A name as written in its own script: NFKC, case-folded, apostrophes, punctuation and joiners gone."""
    return " ".join(APOSTROPHES.sub("", _words(value)).casefold().split())


def in_other_script(value: str) -> bool:
    """Whether a name has letters of a script other than Latin (and so keys in its own script too)."""
    return not value.isascii() and not _latin_script(unicodedata.normalize("NFKC", value))


@lru_cache(maxsize=100_000)
def name_key(value: str) -> str:
    """A name as it is listed and compared: in Latin script its latin_key (O'Brien = OBRIEN, Zoë = ZOE); in any
    other script its script_key (王秀英, ольга), exact, so that names sharing a transliteration stay apart."""
    return script_key(value) if in_other_script(value) else latin_key(value)


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


def completed_years(born: date, on: date) -> int:
    """Age in whole years on a day (a birthday on 29 February counts from 1 March in other years)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


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



def certainly_under(born: PartialDate, years: int, on: date) -> bool:
    """Whether someone born on a partial date was under `years` years old on `on` whichever day of its month or year
    they were born: even born on its first day, the oldest it allows."""
    return completed_years(born.date, on) < years
