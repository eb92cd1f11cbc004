"""Person search: ranked candidates with a score and the reasons they matched.

Candidates come from the stored search keys (names, phonetics, equivalents), from dates of birth near
the one given and from identifiers, all by equality on indexed columns, so the indexes stay in use under
row-level security. SQL narrows and roughly orders them; `score` (here, in Python) decides the final
order and explains it.
"""
from __future__ import annotations

import contextvars
import functools
import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import Date, Integer, SmallInteger, String

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import Sessions, pipelined, transaction
from app.errors import is_database_outage
from app.people.identifiers import PartialDate, search_identifier
from app.people.matching import QueryKey, name_keys, query_keys
from app.sharing import visibility as sharing
from app.tenancy import force_slug

log = logging.getLogger(__name__)
RECORD_TYPE = "person"
# Rows SQL hands to the scorer: ten for each result asked for (at least 50, at most 200). SQL orders them
# by the same name points and a bonus for a date of birth near the one given, so the scorer's best few
# are among them.
MIN_CANDIDATES, MAX_CANDIDATES = 50, 200
MAX_WINDOW = 1000  # results a search pages through at most (page × page_size): deeper than that, narrow it
IDENTIFIER_POINTS = 100
# A hit on one of a person's other names is worth a little less than the same hit on their own name, so a
# bare-surname search lists the people of that surname before those who only use it as an alias.
ALIAS_DISCOUNT = 5
DUPLICATE_THRESHOLD = 85  # a new person this close to an existing one is probably the same person


@dataclass(frozen=True)
class Criteria:
    name: str | None = None
    date_of_birth: PartialDate | None = None
    sex: str | None = None
    age_from: int | None = None
    age_to: int | None = None
    postcode: str | None = None
    identifier: str | None = None
    identifiers: tuple[str, ...] = ()  # more identifiers (a new person's, when checking for duplicates)
    exclude: uuid.UUID | None = None
    page: int = 1
    page_size: int = 20
    aliases: bool = True  # match other names too (not where a field profile masks them)


@dataclass
class Result:
    id: uuid.UUID
    tenant_id: uuid.UUID
    surname: str
    forenames: str
    date_of_birth: PartialDate | None
    sex: str
    pnc_id: str | None
    score: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def force(self) -> str:
        return force_slug(self.tenant_id)


SURNAME_KINDS = ("SE", "ST", "SM", "SN", "SS")


def collision_keys(surname: str, forenames: str, other_names: list[tuple[str, str]],
                   date_of_birth: PartialDate | None, identifiers: tuple[str, ...]) -> set[str]:
    """Keys that any two new people who could be each other's probable duplicate share at least one of, so that
    the service can serialise their duplicate checks on them (and nothing else).

    By the scoring below, a probable duplicate either shares an identifier or reaches DUPLICATE_THRESHOLD by name
    and date of birth, which needs a surname hit and both dates of birth to the day, at most a year apart (a name
    alone tops out at 70, a year or month only adds 10). A surname hit is a query key of one equal to a stored key
    of the other, so each side takes both its query and its stored surname keys (other names too), each with
    its birth year and the next: two years at most one apart always share one of those. Identifiers match by
    value whatever their kind, and a PNC ID in either form, so both forms are keys.
    """
    keys = {f"ID:{form}" for value in identifiers for form in search_identifier(value) if form}
    if date_of_birth is None or date_of_birth.precision != "day":
        return keys
    surnames = {k.key for k in query_keys(f"{forenames} {surname}") if k.part == "surname"}
    for other_surname, other_forenames in [(surname, forenames), *other_names]:
        surnames.update(k for k in name_keys(other_surname, other_forenames) if k[:2] in SURNAME_KINDS)
    year = date_of_birth.date.year
    return keys | {f"{key}:{y}" for key in surnames for y in (year, year + 1)}


def date_of_birth_points(query: PartialDate, record: PartialDate | None) -> tuple[int, str | None]:
    """What a date of birth is worth against the one searched for, and why."""
    if record is None:
        return 0, None
    q, r = query.date, record.date
    if query.precision == "day" and record.precision == "day":
        if q == r:
            return 30, "date of birth exact"
        if q.day <= 12 and (r.year, r.month, r.day) == (q.year, q.day, q.month):
            return 20, "day and month transposed"
        if (r.month, r.day) == (q.month, q.day) and abs(r.year - q.year) == 1:
            return 15, "date of birth ±1 year"
        if r.year == q.year:
            return 5, "year of birth"
        return (-10, None) if abs(r.year - q.year) > 2 else (0, None)
    # One side known only to the month or year: compare what both know.
    if r.year == q.year:
        if query.precision != "year" and record.precision != "year" and r.month != q.month:
            return 5, "year of birth"
        return 10, "year only"
    if abs(r.year - q.year) == 1:
        return 3, "date of birth ±1 year"
    return 0, None


def _dates_near(query: PartialDate) -> list[date]:
    """Exact, day-month transposed and ±1 year: the full dates worth fetching as candidates."""
    if query.precision != "day":
        return []
    d = query.date
    near = [d]
    if d.day <= 12 and d.day != d.month:
        try:
            near.append(date(d.year, d.day, d.month))
        except ValueError:
            pass
    for year in (d.year - 1, d.year + 1):
        try:
            near.append(d.replace(year=year))
        except ValueError:
            pass
    return near


def _birth_range(criteria: Criteria, today: date) -> tuple[date | None, date | None]:
    """Ages from/to as a date-of-birth range (born no later than / no earlier than)."""
    latest = earliest = None
    if criteria.age_from is not None:
        latest = _years_before(today, criteria.age_from)
    if criteria.age_to is not None:
        earliest = _years_before(today, criteria.age_to + 1) + timedelta(days=1)
    return earliest, latest


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# Candidates come from the name keys (with a date of birth: only among people born within a year of it,
# or of unknown birth), from dates of birth near the one given, and from identifiers. Without a date of
# birth a candidate must match some part of the surname: a forename alone is too common to list.
CANDIDATES_SQL = """
WITH q(key, part, weight, bit) AS (
    SELECT key, part, weight, CAST(1 AS bigint) << CAST(i - 1 AS int)
    FROM unnest(CAST(:keys AS text[]), CAST(:parts AS text[]), CAST(:weights AS int[])) WITH ORDINALITY
         AS u(key, part, weight, i)
),
key_hits AS (
    {key_reads}
),
name_hits AS (
    SELECT tenant_id, person_id,
           coalesce(max(weight - CASE WHEN alias THEN {alias_discount} ELSE 0 END) FILTER (WHERE part = 'surname'), 0)
             + coalesce(max(weight - CASE WHEN alias THEN {alias_discount} ELSE 0 END)
                        FILTER (WHERE part = 'forename'), 0) AS points,
           bit_or(bit) FILTER (WHERE NOT alias) AS own_keys, bit_or(bit) FILTER (WHERE alias) AS alias_keys
    FROM key_hits
    GROUP BY tenant_id, person_id
    {surname_required}
),
other_hits AS (
    SELECT tenant_id, id AS person_id, false AS identifier_hit, true AS date_hit FROM person
    WHERE tenant_id = ANY(CAST(:tenants AS uuid[]))
      AND (date_of_birth = ANY(CAST(:dates AS date[])) OR date_of_birth BETWEEN :year_start AND :year_end)
    UNION ALL
    SELECT tenant_id, person_id, true, false FROM person_identifier
    WHERE tenant_id = ANY(CAST(:tenants AS uuid[])) AND value = ANY(CAST(:identifiers AS text[]))
    UNION ALL
    SELECT tenant_id, id, true, false FROM person
    WHERE tenant_id = ANY(CAST(:tenants AS uuid[])) AND pnc_id = ANY(CAST(:pnc_ids AS text[]))
),
others AS (
    SELECT tenant_id, person_id, bool_or(identifier_hit) AS identifier_hit, bool_or(date_hit) AS date_hit
    FROM other_hits GROUP BY tenant_id, person_id
),
best AS (  -- name hits are one row a person already: the few others are joined on, not grouped with them
    SELECT coalesce(n.tenant_id, o.tenant_id) AS tenant_id, coalesce(n.person_id, o.person_id) AS person_id,
           coalesce(n.points, 0) AS points, n.own_keys, n.alias_keys,
           coalesce(o.identifier_hit, false) AS identifier_hit, count(*) OVER () AS matched
    FROM name_hits n FULL JOIN others o ON o.tenant_id = n.tenant_id AND o.person_id = n.person_id
    {best_order}
)
"""
BEST_ORDER = """ORDER BY coalesce(o.identifier_hit, false) DESC,
             coalesce(n.points, 0) + CASE WHEN o.date_hit THEN 30 ELSE 0 END DESC
    LIMIT :pool"""
RANKED_SQL = CANDIDATES_SQL + """
SELECT p.id, p.tenant_id, p.surname, p.forenames, p.date_of_birth, p.date_of_birth_precision, p.sex, p.pnc_id,
       b.own_keys, b.alias_keys, b.identifier_hit, b.matched
FROM best b JOIN person p ON p.tenant_id = b.tenant_id AND p.id = b.person_id
WHERE p.merged_into IS NULL {filters}
ORDER BY b.points + CASE WHEN p.date_of_birth = ANY(CAST(:dates AS date[])) THEN 30 ELSE 0 END
         + CASE WHEN b.identifier_hit THEN 100 ELSE 0 END DESC, p.id
LIMIT :candidates
"""
# How many people the search matches in all, however far it is paged: the same candidates, filtered alike,
# uncut. A candidate found only by a date of birth near the one given is no result when a name was given.
COUNT_SQL = CANDIDATES_SQL + """
SELECT count(*) FROM best b JOIN person p ON p.tenant_id = b.tenant_id AND p.id = b.person_id
WHERE p.merged_into IS NULL {filters} {named}
"""
NAMED = "AND (b.own_keys IS NOT NULL OR b.alias_keys IS NOT NULL OR b.identifier_hit)"
# One force's keys (force i of the statement), read by equality so that all of it can be an index condition
KEY_CONDITION = "k.tenant_id = :tenant_{i} AND k.key = {key} {year_filter}"
KEY_READ = """SELECT k.tenant_id, k.person_id, k.alias, q.part, q.weight, q.bit
    FROM q JOIN person_search_key k ON """ + KEY_CONDITION + " {alias_filter}"
ALIAS_FILTER = "AND NOT k.alias"  # other names masked: only the record's own names may match
YEAR_FILTER = "AND k.birth_year = ANY(CAST(:years AS smallint[]))"
SURNAME_REQUIRED = "HAVING bool_or(part = 'surname')"
POOL = 300  # candidates carried into the join with person, best first (at least MAX_CANDIDATES)
# The query keys a person has come back as bits of a bigint (key i: bit i), a fixed-size aggregate; a name
# of more parts than that allows (62 keys: about seven words) is searched by its best-weighted keys.
MAX_KEYS = 62

POSTCODE_FILTER = """
  AND EXISTS (
    SELECT 1 FROM pole_link l JOIN location loc ON loc.id = CASE WHEN l.from_id = p.id THEN l.to_id ELSE l.from_id END
    WHERE (l.from_id = p.id OR l.to_id = p.id) AND loc.postcode = :postcode
  )
"""


def statement(criteria: Criteria, keys: list[QueryKey], tenants: list[uuid.UUID],
              count: bool = False) -> tuple[Any, dict[str, Any]]:
    """The candidate query over the given forces' people, and its parameters (also what the EXPLAIN test runs).

    Naming the forces (leakproof uuid equality) keeps the (tenant_id, ...) indexes usable even where the
    own-force and sharing policies are OR'ed together. The keys are read one force at a time, so that each
    read is one force's partition with the birth years in its index condition (`tenant_id = ANY(several)`
    would leave the years to a filter over every year's keys). With `count`, it counts every match instead.
    """
    pnc_ids, identifiers = [], []
    for value in filter(None, (criteria.identifier, *criteria.identifiers)):
        pnc, compact = search_identifier(value)
        if pnc:
            pnc_ids.append(pnc)
        identifiers.append(compact)
    params: dict[str, Any] = {
        "keys": [k.key for k in keys], "parts": [k.part for k in keys], "weights": [k.weight for k in keys],
        "dates": _dates_near(criteria.date_of_birth) if criteria.date_of_birth else [],
        "identifiers": identifiers, "pnc_ids": pnc_ids,
        "candidates": _candidates(criteria),
        "year_start": None, "year_end": None, "pool": max(POOL, _candidates(criteria) + 100), "tenants": list(tenants),
        **{f"tenant_{i}": tenant for i, tenant in enumerate(tenants)},
    }
    filters = []
    if criteria.sex and criteria.sex != "unknown":
        filters.append("AND p.sex IN (:sex, 'unknown')")
        params["sex"] = criteria.sex
    earliest, latest = _birth_range(criteria, date.today())
    if earliest:
        filters.append("AND p.date_of_birth >= :earliest")
        params["earliest"] = earliest
    if latest:
        filters.append("AND p.date_of_birth <= :latest")
        params["latest"] = latest
    if criteria.postcode:
        filters.append(POSTCODE_FILTER)
        params["postcode"] = criteria.postcode
    if criteria.exclude:
        filters.append("AND p.id <> :exclude")
        params["exclude"] = criteria.exclude
    if criteria.date_of_birth and criteria.date_of_birth.precision != "day" and not keys:
        # A year (or month) without a name: everyone born in that year are the candidates.
        params["year_start"] = criteria.date_of_birth.date.replace(month=1, day=1)
        params["year_end"] = criteria.date_of_birth.date.replace(month=12, day=31)
    year_filter, surname_required = "", SURNAME_REQUIRED
    if criteria.date_of_birth:
        year = criteria.date_of_birth.date.year
        params["years"] = [0, year - 1, year, year + 1]
        year_filter, surname_required = YEAR_FILTER, ""
    alias_filter = "" if criteria.aliases else ALIAS_FILTER
    key_reads = "\n    UNION ALL\n    ".join(KEY_READ.format(i=i, key="q.key", year_filter=year_filter,
                                                          alias_filter=alias_filter) for i in range(len(tenants)))
    template = COUNT_SQL if count else RANKED_SQL
    sql = text(template.format(filters="\n  ".join(filters), key_reads=key_reads, surname_required=surname_required,
                               alias_discount=ALIAS_DISCOUNT, best_order="" if count else BEST_ORDER,
                               named=NAMED if keys else "")).bindparams(
        bindparam("keys", type_=ARRAY(String)), bindparam("parts", type_=ARRAY(String)),
        bindparam("weights", type_=ARRAY(Integer)), bindparam("dates", type_=ARRAY(Date)),
        bindparam("identifiers", type_=ARRAY(String)), bindparam("pnc_ids", type_=ARRAY(String)),
        bindparam("tenants", type_=ARRAY(PG_UUID(as_uuid=True))),
        *(bindparam(f"tenant_{i}", type_=PG_UUID(as_uuid=True)) for i in range(len(tenants))),
        bindparam("year_start", type_=Date), bindparam("year_end", type_=Date),
        *([bindparam("years", type_=ARRAY(SmallInteger))] if criteria.date_of_birth else []),
    )
    return sql, params


def _candidates(criteria: Criteria) -> int:
    """Rows SQL hands to the scorer: ten for each result asked for, within bounds, and the pages before this one."""
    first = min(MAX_CANDIDATES, max(MIN_CANDIDATES, 10 * criteria.page_size))
    return first + 2 * (criteria.page - 1) * criteria.page_size


def search(session: Session, principal: Principal, criteria: Criteria, audit: bool = True) -> list[Result]:
    """The page of people `criteria` asks for, best first (search_page without counting the total)."""
    return search_page(session, principal, criteria, audit, count=False).results


@dataclass
class Found:
    """A page of results, how many match in all, and the forces whose records could not be searched, and why."""

    results: list[Result]
    total: int
    left_out: list[dict[str, str]] = field(default_factory=list)


LEFT_OUT = "its database did not answer; the search went on without its records"


def search_page(session: Session, principal: Principal, criteria: Criteria, audit: bool = True,
                count: bool = True, *, sessions: Sessions | None = None) -> Found:
    """One page of the people matching the criteria, best first, each scored and explained, and how many match
    in all: the force's own and, with a stated purpose, those other forces share with it (each attributed,
    never merged). Without `count` (a new person's duplicate check), the total is only what was scored.

    Another force's people are searched only by what its field profile releases: a masked date of birth,
    identifier, sex or postcode is left out of the criteria for them, and masked other names are not
    matched, so a masked value can neither find, filter nor rank them.

    With `sessions`, the people of forces held in other databases are searched there, through each database's
    own policies, by the same statement, at the same time as the acting force's own database (a thread each,
    with a session, a transaction and the tenant setting of its own), and scored alike into one ranking; each
    provider's access-log rows are written in its database. A database that does not answer is left out and
    named, and the search goes on.
    """
    work: dict[str | None, list[tuple[Criteria, list[uuid.UUID]]]] = {}  # each database's searches: by whom, how
    groups: dict[Criteria, list[uuid.UUID]] = {}  # forces searched by the same criteria, searched together
    for tenant_id, masked in _masks(principal):
        narrowed = _without(criteria, masked)
        if narrowed is not None:
            groups.setdefault(narrowed, []).append(tenant_id)
    elsewhere = sessions.elsewhere({t for tenants in groups.values() for t in tenants}) if sessions else {}
    database_of = {tenant: name for name, tenants in elsewhere.items() for tenant in tenants}
    for narrowed, tenants in groups.items():
        by_database: dict[str | None, list[uuid.UUID]] = {}
        for tenant in tenants:
            by_database.setdefault(database_of.get(tenant), []).append(tenant)
        for name, here in by_database.items():
            work.setdefault(name, []).append((narrowed, here))
    # Opened here, in the request's thread (the request's Sessions is not shared between threads); each is then
    # used by one thread at a time: its search's, then this one's for the access log and the commit.
    opened = {name: sessions.named(name) for name in work if name is not None} if sessions else {}
    found = Found([], 0)

    def search_own() -> None:
        for narrowed, here in work.get(None, []):
            _search_in(session, narrowed, here, count, found)

    try:
        with transaction(session):
            for name, there in _elsewhere(opened, work, count, _threads(sessions), search_own):
                if there is None:
                    log.warning("people search: database %s did not answer; its forces' records were left out", name)
                    del opened[name]
                    found.left_out += [{"force": force_slug(t), "reason": LEFT_OUT} for t in elsewhere[name]]
                else:
                    found.results += there.results
                    found.total += there.total
            found.results.sort(key=lambda r: (-r.score, r.surname, r.forenames, str(r.id)))
            found.results = found.results[(criteria.page - 1) * criteria.page_size: criteria.page * criteria.page_size]
            if audit:
                _log_reads(session, principal, found.results, database_of, opened)
        for other in opened.values():
            other.commit()
    finally:
        for other in opened.values():
            if other.in_transaction():
                other.rollback()
    return found


def _threads(sessions: Sessions | None) -> int:
    return sessions.databases.settings.search_threads if sessions else 0


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    """The worker process's threads for searching other databases (made on first use, after gunicorn's fork)."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="people-search")


def _elsewhere(opened: dict[str, Session], work: dict[str | None, list[tuple[Criteria, list[uuid.UUID]]]],
               count: bool, threads: int, own: Callable[[], None]) -> list[tuple[str, Found | None]]:
    """Each other database's people found (None: it did not answer), searched on `threads` threads while `own`
    searches the acting force's database in this one; with no threads, one database after another."""
    if threads < 1 or not opened:
        own()
        return [(name, _search_there(other, work[name], count)) for name, other in opened.items()]
    # each task runs in a copy of this thread's context: the tenant context its transaction's settings are made of
    futures = {name: _pool(threads).submit(contextvars.copy_context().run, _search_there, other, work[name], count)
               for name, other in opened.items()}
    try:
        own()
    finally:  # no session is left in another thread's hands, whatever happened here
        wait(futures.values())
    return [(name, future.result()) for name, future in futures.items()]


def _search_there(other: Session, searches: list[tuple[Criteria, list[uuid.UUID]]], count: bool) -> Found | None:
    """The searches of one other database, in a transaction of its own held open for its access log; None when
    the database does not answer."""
    found = Found([], 0)
    try:
        other.begin()
        for criteria, tenants in searches:
            _search_in(other, criteria, tenants, count, found)
        return found
    except DBAPIError as exc:
        if not is_database_outage(exc):
            raise
        if other.in_transaction():
            other.rollback()
        return None


def _search_in(session: Session, criteria: Criteria, tenants: list[uuid.UUID], count: bool, found: Found) -> None:
    """The people of these forces in one database, scored, added to what was found."""
    keys = _capped(query_keys(criteria.name)) if criteria.name else []
    sql, params = statement(criteria, keys, tenants)
    rows = session.execute(sql, params).all()
    results = [_scored(row, criteria, keys) for row in rows]
    if keys:  # a name was given: someone who matches none of it (nor an identifier) is not a result
        results = [r for r in results if NAME_REASONS.intersection(r.reasons) or "identifier" in r.reasons]
    found.results += results
    found.total += _total(session, criteria, keys, tenants, rows, len(results)) if count else len(results)


def _log_reads(session: Session, principal: Principal, results: list[Result], database_of: dict[uuid.UUID, str],
               opened: dict[str, Session]) -> None:
    """The consultations in the acting force's audit trail; each provider's access-log rows in its database."""
    with pipelined(session):  # the consultations and the providers' access log in one round trip
        audit_service.record_each(session, principal, "consultation", RECORD_TYPE, [r.id for r in results],
                                  {"via": "search"})
        sharing.record_shared_reads(session, principal, RECORD_TYPE,
                                    [(r.tenant_id, r.id) for r in results if r.tenant_id not in database_of])
    for name, other in opened.items():
        sharing.record_shared_reads(other, principal, RECORD_TYPE,
                                    [(r.tenant_id, r.id) for r in results if database_of.get(r.tenant_id) == name])


def _total(session: Session, criteria: Criteria, keys: list[QueryKey], tenants: list[uuid.UUID], rows: Sequence[Any],
           found: int) -> int:
    """How many match: those found, when SQL cut neither its candidates nor its pool; else counted."""
    if len(rows) < _candidates(criteria) and (not rows or rows[0].matched <= max(POOL, _candidates(criteria) + 100)):
        return found
    sql, params = statement(criteria, keys, tenants, count=True)
    return int(session.execute(sql, params).scalar_one())


def _capped(keys: list[QueryKey]) -> list[QueryKey]:
    return keys if len(keys) <= MAX_KEYS else sorted(keys, key=lambda k: -k.weight)[:MAX_KEYS]


def _masks(principal: Principal) -> list[tuple[uuid.UUID, frozenset[str]]]:
    """Each force to search with what its profile masks: the force's own (nothing), then every force sharing
    people with it. A force whose addresses cannot be read unmasked (links and locations shared, postcodes
    not masked) counts as masking "postcode", so a postcode neither narrows nor reveals its people."""
    masks: list[tuple[uuid.UUID, frozenset[str]]] = [(principal.tenant.id, frozenset())]
    for source in principal.shared:
        if source.record_type == RECORD_TYPE:
            location = principal.source(source.provider_id, "location")
            link = principal.source(source.provider_id, "link")
            addresses = location is not None and link is not None and "postcode" not in location.masked
            masks.append((source.provider_id, source.masked if addresses else source.masked | {"postcode"}))
    return masks


def _without(criteria: Criteria, masked: frozenset[str]) -> Criteria | None:
    """The criteria with whatever the profile masks taken out; None when nothing is left to search by."""
    changes: dict[str, Any] = {}
    if "date_of_birth" in masked:
        changes.update(date_of_birth=None, age_from=None, age_to=None)
    if {"pnc_id", "identifiers"} & masked:
        changes.update(identifier=None, identifiers=())
    if "sex" in masked:
        changes.update(sex=None)
    if "postcode" in masked:
        changes.update(postcode=None)
    if "other_names" in masked:
        changes.update(aliases=False)
    narrowed = replace(criteria, **changes) if changes else criteria
    if not (narrowed.name or narrowed.date_of_birth or narrowed.identifier or narrowed.identifiers):
        return None
    return narrowed


NAME_REASONS = {"exact surname", "surname part", "phonetic surname", "surname spelling", "exact forename",
                "nickname", "phonetic forename", "alias", "transliterated surname", "transliterated forename"}


def _scored(row: Any, criteria: Criteria, keys: list[QueryKey]) -> Result:
    dob = PartialDate(row.date_of_birth, row.date_of_birth_precision) if row.date_of_birth else None
    result = Result(row.id, row.tenant_id, row.surname, row.forenames, dob, row.sex, row.pnc_id)
    points = 0
    best: dict[str, tuple[int, str, bool]] = {}
    for bits, alias in ((row.own_keys or 0, False), (row.alias_keys or 0, True)):
        for index, hit in enumerate(keys):  # bit i set: the person has query key i
            if bits >> index & 1:
                current = best.get(hit.part)
                weight = hit.weight - ALIAS_DISCOUNT if alias else hit.weight
                if current is None or (weight, not alias) > (current[0], not current[2]):
                    best[hit.part] = (weight, hit.reason, alias)
    for part in ("surname", "forename"):
        if part in best:
            weight, reason, alias = best[part]
            points += weight
            result.reasons.append(reason)
            if alias and "alias" not in result.reasons:
                result.reasons.append("alias")
    if criteria.date_of_birth:
        dob_points, dob_reason = date_of_birth_points(criteria.date_of_birth, dob)
        points += dob_points
        if dob_reason:
            result.reasons.append(dob_reason)
    if row.identifier_hit:
        points += IDENTIFIER_POINTS
        result.reasons.append("identifier")
    result.score = max(0, min(100, points))
    return result

