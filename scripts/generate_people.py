"""Realistic people for testing search, and the queries officers would type to find them.

People follow UK name frequencies (scripts/data/*.csv, plus a long tail of rarer surnames), with middle
names, hyphenated surnames, aliases and maiden names, approximate dates of birth and PNC IDs. Each query
names the person it is meant to find and is written the way officers get names wrong: one typo, a
nickname, day and month transposed, a year of birth only, an alias.

    .venv/bin/python scripts/generate_people.py --people 100000 --out var/gen/people.csv \\
        --queries 1000 --queries-out var/gen/queries.json
"""
from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.people.identifiers import pnc_check_letter  # noqa: E402
from app.people.matching import EQUIVALENTS_FILE  # noqa: E402

DATA = Path(__file__).with_name("data")
COLUMNS = ("source_ref", "surname", "forenames", "date_of_birth", "sex", "pnc_id", "place_of_birth",
           "alias_surname", "alias_forenames")
PLACES = ("Leeds", "Manchester", "Birmingham", "London", "Bradford", "Cardiff", "Glasgow", "Lagos", "Karachi",
          "Warsaw", "Dublin", "Northtown", "Southport", "Westbury", "Lakeside")
QUERY_KINDS = ("exact", "typo", "nickname", "transposed_date", "year_only", "alias", "reversed_order")
KEYBOARD_NEIGHBOURS = {
    "a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo", "j": "hk",
    "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et", "s": "ad", "t": "ry",
    "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}


class Weighted:
    """Draw from a list by weight, quickly."""

    def __init__(self, items: list[tuple[str, float]]):
        self.items = [item for item, _ in items]
        self.cumulative = list(itertools.accumulate(weight for _, weight in items))

    def draw(self, rng: random.Random) -> str:
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


# The listed surnames cover about a quarter of people, as the commonest few hundred do in the UK; the rest
# come from a long tail of rarer English-looking surnames made from place-name parts (Ashworth, Penrose...).
TAIL_PREFIXES = ("Ash", "Brad", "Pen", "Hol", "Wood", "Brook", "Cal", "Dun", "Fair", "Gold", "Hart", "Kings",
                 "Lang", "Mar", "Nor", "Oak", "Red", "Stan", "Thorn", "Wal", "Whit", "Win", "Ald", "Bar", "Black",
                 "Brom", "Chad", "Chil", "Crom", "Dal", "Elm", "Fen", "Gar", "Hal", "Hay", "Her", "Kil", "Lid",
                 "Lin", "Mil", "Mor", "New", "Orm", "Pres", "Rad", "Ros", "Sel", "Shel", "Stock", "Sut", "Tam",
                 "Tre", "Wad", "West", "Wick", "Wor", "Bram", "Cran", "Hather", "Rother")
TAIL_SUFFIXES = ("worth", "shaw", "rose", "ford", "ley", "ton", "wood", "field", "ham", "by", "well", "combe",
                 "den", "hurst", "more", "stone", "bridge", "cott", "wick", "thwaite", "ridge", "gate", "croft",
                 "land", "brook", "bury", "low", "stead", "win", "dale")
TAIL_SHARE = 0.75


def _tail() -> Weighted:
    rng = random.Random(0)
    names = [(p + s, rng.lognormvariate(0, 1)) for p in TAIL_PREFIXES for s in TAIL_SUFFIXES]
    names += [(name + "s", weight / 4) for name, weight in names[::3]]
    return Weighted(names)


class Surnames:
    def __init__(self, common: Weighted, tail: Weighted):
        self.common, self.tail = common, tail

    def draw(self, rng: random.Random) -> str:
        return (self.tail if rng.random() < TAIL_SHARE else self.common).draw(rng)


def _load() -> tuple[Surnames, dict[str, Weighted]]:
    with (DATA / "surnames.csv").open() as f:
        surnames = Surnames(Weighted([(r["surname"], float(r["per_million"])) for r in csv.DictReader(f)]), _tail())
    by_sex: dict[str, list[tuple[str, float]]] = {"male": [], "female": []}
    with (DATA / "forenames.csv").open() as f:
        for r in csv.DictReader(f):
            by_sex[r["sex"]].append((r["forename"], float(r["per_million"])))
    return surnames, {sex: Weighted(names) for sex, names in by_sex.items()}


def nicknames() -> dict[str, list[str]]:
    """Formal forename -> the other names of its equivalence groups (title case)."""
    out: dict[str, list[str]] = {}
    for line in EQUIVALENTS_FILE.read_text().splitlines():
        names = line.split("#", 1)[0].split()
        for name in names:
            out.setdefault(name.title(), []).extend(n.title() for n in names if n != name)
    return out


def people(count: int, seed: int, start: int = 0) -> Iterator[dict[str, str]]:
    """`count` people as import rows (source_ref G<seed>-<n>)."""
    rng = random.Random(seed)
    surnames, forenames = _load()
    for n in range(start, start + count):
        sex = "male" if rng.random() < 0.5 else "female"
        forename = forenames[sex].draw(rng)
        if rng.random() < 0.4:
            forename += " " + forenames[sex].draw(rng)
        surname = surnames.draw(rng)
        if rng.random() < 0.03:
            surname = f"{surname}-{surnames.draw(rng)}"
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(25_000))
        roll = rng.random()
        dob = f"{born.year}" if roll < 0.04 else f"{born.year}-{born.month:02d}" if roll < 0.07 else born.isoformat()
        pnc = ""
        if rng.random() < 0.3:
            year, serial = born.year % 100 if rng.random() < 0.1 else rng.randrange(80, 100), seed * 1_000_000 + n
            serial %= 10_000_000
            pnc = f"{year:02d}/{serial:07d}{pnc_check_letter(year, serial)}"
        alias_surname = alias_forenames = ""
        if rng.random() < 0.08:
            if sex == "female" and rng.random() < 0.6:
                alias_surname, alias_forenames = surnames.draw(rng), forename  # maiden name
            else:
                alias_surname, alias_forenames = surnames.draw(rng), forenames[sex].draw(rng)
        yield {"source_ref": f"G{seed}-{n}", "surname": surname, "forenames": forename, "date_of_birth": dob,
               "sex": sex, "pnc_id": pnc, "place_of_birth": rng.choice(PLACES), "alias_surname": alias_surname,
               "alias_forenames": alias_forenames}


def typo(word: str, rng: random.Random) -> str:
    """One slip of the keyboard or the ear, never in the first letter."""
    if len(word) < 4:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "neighbour"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    lower = word[i].lower()
    return word[:i] + rng.choice(KEYBOARD_NEIGHBOURS.get(lower, lower)) + word[i + 1:]


def queries(rows: list[dict[str, str]], count: int, seed: int) -> list[dict[str, str]]:
    """`count` officer-style queries, each with the source_ref of the person it should find."""
    rng = random.Random(seed)
    nick = nicknames()
    out: list[dict[str, str]] = []
    while len(out) < count:
        row = rng.choice(rows)
        kind = QUERY_KINDS[len(out) % len(QUERY_KINDS)]
        first = row["forenames"].split()[0]
        surname, dob = row["surname"], row["date_of_birth"]
        query = {"kind": kind, "expected": row["source_ref"], "name": f"{first} {surname}", "date_of_birth": dob}
        if kind == "typo":
            if rng.random() < 0.7:
                query["name"] = f"{first} {typo(surname, rng)}"
            else:
                query["name"] = f"{typo(first, rng)} {surname}"
        elif kind == "nickname":
            if first not in nick:
                continue
            query["name"] = f"{rng.choice(nick[first])} {surname}"
        elif kind == "transposed_date":
            if len(dob) != 10 or int(dob[8:]) > 12 or dob[5:7] == dob[8:]:
                continue
            query["date_of_birth"] = f"{dob[:4]}-{dob[8:]}-{dob[5:7]}"
        elif kind == "year_only":
            query["date_of_birth"] = dob[:4]
        elif kind == "alias":
            if not row["alias_surname"]:
                continue
            query["name"] = f"{row['alias_forenames'].split()[0]} {row['alias_surname']}"
        elif kind == "reversed_order":
            query["name"] = f"{surname} {first}"
        out.append(query)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=0)
    parser.add_argument("--queries-out", type=Path)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        for row in people(args.people, args.seed):
            writer.writerow(row)
            if args.queries:
                rows.append(row)
    if args.queries and args.queries_out:
        args.queries_out.write_text(json.dumps(queries(rows, args.queries, args.seed + 1000), indent=1))


if __name__ == "__main__":
    main()
