"""How people are matched: normalised names, phonetic keys, forename equivalents, and what a hit is worth.

Search keys are computed here when a person is written (the service and the bulk import both call
`person_keys`) and stored in `person_search_key`; a search computes `query_keys` the same way and looks
them up by plain equality, which stays indexed under row-level security.

A key is a short string: a two-letter kind, a colon, a value (``SE:OBRIEN``). The kinds:

    SE  the whole surname, compacted (O'Brien = OBrien = O Brien = OBRIEN; Mac = Mc)
    ST  one part of a multi-part or hyphenated surname (a one-part surname has only SE)
    SM  Metaphone of a surname part        SN  NYSIIS of a surname part
    SS  a surname part's first letter and the rest of its letters sorted (catches transposed letters)
    FE  a forename                         FG  the forename's equivalence group (Kate -> CATHERINE)
    FM  Metaphone of a forename            FN  NYSIIS of a forename
    SX  the whole surname in its own script, for a name not in Latin script (SX:王秀英)
    FX  a forename in its own script (FX:ольга)

A name in another script is transliterated (anyascii) and keyed like a Latin name as well, so that a
romanised search finds it; a search in that script finds the exact name through SX and FX, and counts a hit
on its transliteration's keys lower ("transliterated surname"): 王秀英 and 汪秀英 share WANGXIUYING.

A forename that names its own group (Catherine) stores no FG key: its FE key is the same fact. So a
search for a nickname (Kate) looks up the group (FG:CATHERINE, the other nicknames) and the group's
name (FE:CATHERINE), both as a nickname hit; a search for Catherine looks up FG:CATHERINE for them.

A middle name is stored with FE and FG only: officers search by first names, and every key row costs
index space and import time.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import jellyfish

from app.people.identifiers import in_other_script, latin_key, script_key

JOINED_PREFIXES = {"O", "MC", "MAC", "D"}  # "O Brien", "Mac Donald", "D Souza" are written as one word too
EQUIVALENTS_FILE = Path(__file__).with_name("data") / "forename_equivalents.txt"


@dataclass(frozen=True)
class QueryKey:
    key: str
    part: str  # "surname" | "forename"
    weight: int
    reason: str


# What a hit on each kind of key is worth, and how the result explains it.
SURNAME_WEIGHTS = {"SE": (40, "exact surname"), "ST": (36, "surname part"), "SM": (26, "phonetic surname"),
                   "SN": (26, "phonetic surname"), "SS": (22, "surname spelling"), "SX": (40, "exact surname")}
FORENAME_WEIGHTS = {"FE": (30, "exact forename"), "FG": (25, "nickname"), "FM": (20, "phonetic forename"),
                    "FN": (20, "phonetic forename"), "FX": (30, "exact forename")}
# A hit on the keys of a transliteration, for a search typed in another script: the same letters in Latin,
# not the same name.
TRANSLITERATED = {"SE": (34, "transliterated surname"), "ST": (32, "transliterated surname"),
                  "FE": (26, "transliterated forename")}


@lru_cache(maxsize=100_000)
def tokens(value: str) -> tuple[str, ...]:
    """A name's parts, normalised: accents, case, apostrophes and hyphens dropped; prefixes joined; Mac = Mc;
    another script transliterated."""
    return tuple(token for token, _ in _parts(value))


def _parts(value: str) -> tuple[tuple[str, bool], ...]:
    """(token, transliterated from another script?) for each part of a name."""
    if value.isascii():  # nearly every name: nothing to transliterate
        parts = [(token, False) for token in latin_key(value).split()]
    else:
        parts = [(token, in_other_script(word)) for word in value.split() for token in latin_key(word).split()]
    joined: list[tuple[str, bool]] = []
    i = 0
    while i < len(parts):
        part, foreign = parts[i]
        if part in JOINED_PREFIXES and i + 1 < len(parts):
            part, foreign = part + parts[i + 1][0], foreign or parts[i + 1][1]
            i += 1
        joined.append((_mac(part), foreign))
        i += 1
    return tuple(joined)


def script_tokens(value: str) -> tuple[str, ...]:
    """The parts of a name written in another script, in that script (script_key), in order."""
    if value.isascii():
        return ()
    return tuple(token for word in value.split() if in_other_script(word) for token in script_key(word).split())


def _initial(token: str) -> bool:
    """One letter of a cased script (A, Ж) is an initial; one character of Chinese is a whole name."""
    return len(token) == 1 and token.upper() != token.lower()


def _mac(token: str) -> str:
    return "MC" + token[3:] if token.startswith("MAC") and len(token) > 4 else token


@cache
def _groups() -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    for line in EQUIVALENTS_FILE.read_text(encoding="utf-8").splitlines():
        names = line.split("#", 1)[0].split()
        if names:
            for name in names:
                groups.setdefault(name, []).append(names[0])
    return {name: tuple(dict.fromkeys(heads)) for name, heads in groups.items()}


def forename_groups(token: str) -> tuple[str, ...]:
    """The equivalence groups (named by their formal name) a forename belongs to."""
    return _groups().get(token, ())


@lru_cache(maxsize=100_000)
def _surname_part_keys(token: str) -> tuple[str, ...]:
    if not token.isalpha():  # digits are no part of a name: such a token (a reference typed as a name) is exact only
        return (f"ST:{token}",)
    return (f"ST:{token}", f"SM:{jellyfish.metaphone(token)}", f"SN:{jellyfish.nysiis(token)}",
            f"SS:{token[0]}{''.join(sorted(token[1:]))}")


@lru_cache(maxsize=100_000)
def _forename_keys(token: str, first: bool = True) -> tuple[str, ...]:
    """The stored keys of a forename (a middle name: FE and FG only)."""
    phonetic: tuple[str, ...] = ()
    if first and token.isalpha():
        phonetic = (f"FM:{jellyfish.metaphone(token)}", f"FN:{jellyfish.nysiis(token)}")
    return (f"FE:{token}", *phonetic, *(f"FG:{group}" for group in forename_groups(token) if group != token))


@lru_cache(maxsize=100_000)
def _forename_query_keys(token: str) -> tuple[tuple[str, str], ...]:
    """(key, kind it counts as) to look up for a forename searched for: its own keys, its group's other
    members (FG) and, for a nickname, the group's own name (FE:CATHERINE counts as a nickname hit)."""
    groups = forename_groups(token)
    keys = [(key, key[:2]) for key in _forename_keys(token)]
    keys += [(f"FG:{group}", "FG") for group in groups if group == token]
    keys += [(f"FE:{group}", "FG") for group in groups if group != token]
    return tuple(keys)


@lru_cache(maxsize=200_000)
def name_keys(surname: str, forenames: str) -> tuple[str, ...]:
    """Every search key of one name (a person's own, or one of their other names), without repeats."""
    keys: list[str] = []
    surname_parts = tokens(surname)
    if surname_parts:
        keys.append(f"SE:{''.join(surname_parts)}")
        for token in surname_parts:
            part_keys = _surname_part_keys(token)
            keys += part_keys if len(surname_parts) > 1 else part_keys[1:]
    for index, token in enumerate(t for t in tokens(forenames) if len(t) > 1):  # an initial is not a key
        keys += _forename_keys(token, first=index == 0)
    if not (surname.isascii() and forenames.isascii()):
        if in_other_script(surname):
            keys.append(f"SX:{''.join(script_key(surname).split())}")
        keys += [f"FX:{token}" for token in script_tokens(forenames) if not _initial(token)]
    return tuple(dict.fromkeys(keys))


def person_keys(surname: str, forenames: str, other_names: list[tuple[str, str]]) -> list[tuple[str, bool]]:
    """(key, from an other name?) for a person; a key of their own name is not repeated as an alias key."""
    own = name_keys(surname, forenames)
    keys = [(key, False) for key in own]
    seen = set(own)
    for other_surname, other_forenames in other_names:
        for key in name_keys(other_surname, other_forenames):
            if key not in seen:
                seen.add(key)
                keys.append((key, True))
    return keys


def query_keys(name: str) -> list[QueryKey]:
    """The keys to look up for free text naming a person, in any order ("OBrien Siobhan", "Kate Smith-Jones").

    Any part may be the surname or a forename, so each is tried as both; adjacent parts are also tried as
    one compacted surname ("Smith Jones" finds SMITHJONES). Parts in another script are tried in that script
    (SX, FX) and, counting less, by their transliteration.
    """
    parts = _parts(name)
    found: dict[str, QueryKey] = {}

    def add(key: str, part: str, weights: dict[str, tuple[int, str]], kind: str = "", foreign: bool = False) -> None:
        kind = kind or key[:2]
        weight, reason = TRANSLITERATED[kind] if foreign and kind in TRANSLITERATED else weights[kind]
        if key not in found or found[key].weight < weight:
            found[key] = QueryKey(key, part, weight, reason)

    for i, (token, foreign) in enumerate(parts):
        add(f"SE:{token}", "surname", SURNAME_WEIGHTS, foreign=foreign)
        if i + 1 < len(parts):
            add(f"SE:{token}{parts[i + 1][0]}", "surname", SURNAME_WEIGHTS, foreign=foreign or parts[i + 1][1])
        for key in _surname_part_keys(token):
            add(key, "surname", SURNAME_WEIGHTS, foreign=foreign)
        if len(token) > 1:
            for key, kind in _forename_query_keys(token):
                add(key, "forename", FORENAME_WEIGHTS, kind, foreign=foreign)
    written = script_tokens(name)
    for i, token in enumerate(written):
        add(f"SX:{token}", "surname", SURNAME_WEIGHTS)
        if i + 1 < len(written):
            add(f"SX:{token}{written[i + 1]}", "surname", SURNAME_WEIGHTS)
        if not _initial(token):
            add(f"FX:{token}", "forename", FORENAME_WEIGHTS)
    return list(found.values())
