"""Bulk import of people, objects and locations from a legacy system's CSV export.

Every row is validated first; bad rows are reported with their line numbers and reasons and not loaded.
Good rows are copied (COPY) into temporary staging tables, then inserted into the force's tables through
row-level security in one transaction, with the same search keys the API computes. Each row's id is
derived from the force and the row's `source_ref` (or, without one, its content), so a re-run inserts
nothing twice.
"""
from __future__ import annotations

import csv
import gc
import hashlib
import io
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import Connection, text

from app.people.identifiers import PartialDate, check_name, name_key, normalise_pnc_id
from app.people.matching import person_keys
from app.pole import normalise
from app.schemas import date_out_of_range

BATCH = 50_000
IMPORT_NAMESPACE = uuid.UUID("0b0f3c52-51a4-4d67-8f8e-7f3e6a1b2c9d")
SEXES = {"male": "male", "female": "female", "indeterminate": "indeterminate", "unknown": "unknown",
         "m": "male", "f": "female", "i": "indeterminate", "u": "unknown", "": "unknown"}


class RowError(ValueError):
    """A field of a row is wrong: `field: reason`."""


@dataclass
class Report:
    kind: str
    rows: int = 0
    inserted: int = 0
    already_present: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False
    keys_in_bulk: bool = False  # people: the force's search keys were indexed in one pass (its first load)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def row_id(tenant_id: uuid.UUID, kind: str, row: dict[str, str]) -> uuid.UUID:
    """Stable across re-runs: from the legacy reference, or else from the row's content.

    The same as uuid.uuid5(IMPORT_NAMESPACE, f"{tenant_id}/{kind}/{basis}"), with the hash of the common
    prefix computed once (half the time, on millions of rows)."""
    ref = (row.get("source_ref") or "").strip()
    basis = f"ref:{ref}" if ref else "row:" + hashlib.sha256(
        "\x1f".join(f"{k}={(v or '').strip()}" for k, v in sorted(row.items())).encode()).hexdigest()
    digest = _id_prefix(tenant_id, kind).copy()
    digest.update(basis.encode())
    return uuid.UUID(bytes=digest.digest()[:16], version=5)


@lru_cache(maxsize=64)
def _id_prefix(tenant_id: uuid.UUID, kind: str) -> Any:
    return hashlib.sha1(IMPORT_NAMESPACE.bytes + f"{tenant_id}/{kind}/".encode())  # noqa: S324 (uuid5 is SHA-1)


def _text(row: dict[str, str], name: str, limit: int = 200) -> str | None:
    value = " ".join((row.get(name) or "").split())
    if not value:
        return None
    if len(value) > limit:
        raise RowError(f"{name}: is longer than {limit} characters")
    return value


def _required_text(row: dict[str, str], name: str, limit: int = 200) -> str:
    value = _text(row, name, limit)
    if value is None:
        raise RowError(f"{name}: is required")
    return value


def _normal(row: dict[str, str], name: str, fn: Callable[[str], Any]) -> Any:
    value = _text(row, name)
    if value is None:
        return None
    try:
        return fn(value)
    except ValueError as exc:
        raise RowError(f"{name}: {exc}") from None


# --- people -------------------------------------------------------------------------------------------------

def _name(column: str, value: str) -> str:
    """The name as given, if it can be recorded (the API's rule: a letter, no control characters)."""
    reason = check_name(value) if value else None
    if reason:
        raise RowError(f"{column}: {reason}")
    return value


def _date_of_birth(value: str) -> PartialDate:
    partial = PartialDate.parse(value)
    reason = date_out_of_range(partial.date)
    if reason:
        raise ValueError(reason)
    return partial


PERSON_COLUMNS = ("tenant_id", "id", "surname", "forenames", "surname_key", "forenames_key", "date_of_birth",
                  "date_of_birth_precision", "sex", "pnc_id", "place_of_birth", "ethnicity_code", "created_by",
                  "updated_by", "line")


def person_row(tenant_id: uuid.UUID, user: str, line: int,
               row: dict[str, str]) -> tuple[tuple, list[tuple], list[tuple]]:
    """(person, its search keys, its other names) staged for one valid CSV row; RowError otherwise."""
    surname = _name("surname", _required_text(row, "surname", limit=100))
    forenames = _name("forenames", _required_text(row, "forenames"))
    sex = SEXES.get((row.get("sex") or "").strip().lower())
    if sex is None:
        raise RowError("sex: must be male, female, indeterminate or unknown (or M, F, U)")
    dob = _normal(row, "date_of_birth", _date_of_birth)
    pnc = _normal(row, "pnc_id", normalise_pnc_id)
    person_id = row_id(tenant_id, "person", row)
    others: list[tuple[str, str]] = []
    alias_surname = _text(row, "alias_surname", limit=100)
    if alias_surname:
        others.append((_name("alias_surname", alias_surname),
                       _name("alias_forenames", _text(row, "alias_forenames") or "")))
    keys = person_keys(surname, forenames, others)
    person = (tenant_id, person_id, surname, forenames, name_key(surname), name_key(forenames),
              dob.date if dob else None, dob.precision if dob else None, sex, pnc,
              _text(row, "place_of_birth"), _text(row, "ethnicity_code", limit=2), user, user, line)
    year = dob.date.year if dob else 0
    return (person, [(tenant_id, key, year, person_id, alias) for key, alias in keys],
            [(tenant_id, uuid.uuid5(person_id, f"alias/{s}/{f}"), person_id, "alias", s, f) for s, f in others])


# --- objects and locations ----------------------------------------------------------------------------------

OBJECT_COLUMNS = ("tenant_id", "id", "kind", "vrm", "make", "model", "colour", "vin", "phone_number", "category",
                  "description", "serial_number", "created_by", "updated_by", "line")
LOCATION_COLUMNS = ("tenant_id", "id", "address_lines", "town", "postcode", "uprn", "latitude", "longitude",
                    "created_by", "updated_by", "line")


def object_row(tenant_id: uuid.UUID, user: str, line: int, row: dict[str, str]) -> tuple:
    kind = (row.get("kind") or "").strip().lower()
    if kind not in ("vehicle", "telephone", "property"):
        raise RowError("kind: must be vehicle, telephone or property")
    values = {
        "vrm": _normal(row, "vrm", normalise.vrm), "make": _text(row, "make"), "model": _text(row, "model"),
        "colour": _text(row, "colour"), "vin": _normal(row, "vin", normalise.vin),
        "phone_number": _normal(row, "phone_number", normalise.phone_number), "category": _text(row, "category"),
        "description": _text(row, "description", limit=4000), "serial_number": _text(row, "serial_number"),
    }
    required = {"vehicle": ("vrm",), "telephone": ("phone_number",), "property": ("category", "description")}[kind]
    for name in required:
        if not values[name]:
            raise RowError(f"{name}: is required for a {kind}")
    return (tenant_id, row_id(tenant_id, "object", row), kind, *values.values(), user, user, line)


def location_row(tenant_id: uuid.UUID, user: str, line: int, row: dict[str, str]) -> tuple:
    lines = [v for v in (_text(row, f"address_line_{i}") for i in (1, 2, 3)) if v]
    uprn = _normal(row, "uprn", _positive_int)
    postcode = _normal(row, "postcode", normalise.postcode)
    latitude = _normal(row, "latitude", _coordinate(90))
    longitude = _normal(row, "longitude", _coordinate(180))
    if (latitude is None) != (longitude is None):
        raise RowError("latitude: give latitude and longitude together")
    if not (lines or uprn or postcode or latitude is not None):
        raise RowError("address_line_1: give address lines, a postcode, a UPRN or coordinates")
    return (tenant_id, row_id(tenant_id, "location", row), lines, _text(row, "town"), postcode, uprn, latitude,
            longitude, user, user, line)


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a positive whole number")
    return number


def _coordinate(limit: int) -> Callable[[str], float]:
    def parse(value: str) -> float:
        number = float(value)
        if not -limit <= number <= limit:
            raise ValueError(f"must be between -{limit} and {limit}")
        return number

    return parse


# --- loading ------------------------------------------------------------------------------------------------

KEY_COLUMNS = ("tenant_id", "key", "birth_year", "person_id", "alias")


@dataclass(frozen=True)
class Kind:
    """How one kind of record is staged and loaded: its table, its columns, the unique value that must not clash."""

    table: str
    stage: str
    columns: tuple[str, ...]  # as parsed, ending with the CSV line number
    parse: Callable[..., Any]
    unique: str | None = None  # a column unique within the force (besides the id)
    unique_label: str = ""
    noun: str = "record"
    extra_stages: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (stage, like table, columns)
    extra_inserts: str = ""  # more CTEs after `inserted` (people: their other names)

    @property
    def stored_columns(self) -> str:
        return ", ".join(c for c in self.columns if c != "line")

    def staging_sql(self) -> list[str]:
        stages = [(self.stage, self.table, True), *((s, like, False) for s, like, _ in self.extra_stages)]
        return [f"DROP TABLE IF EXISTS {', '.join(s for s, _, _ in stages)}"] + [
            f"CREATE TEMP TABLE {stage} (LIKE {like} INCLUDING DEFAULTS{', line integer' if lined else ''}) "
            "ON COMMIT DROP" for stage, like, lined in stages]

    def copies(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(self.stage, self.columns), *((s, cols) for s, _, cols in self.extra_stages)]

    def clash_sql(self) -> str:
        """Rows whose unique value an earlier line, or another record of the force, already holds."""
        if self.unique is None:
            return f"SELECT line, '' FROM {self.stage} WHERE false"
        u = self.unique
        return f"""
            SELECT line, '{u}: the same {self.unique_label} is on line ' || first_line FROM (
                SELECT line, id, first_value(id) OVER w AS first_id, first_value(line) OVER w AS first_line
                FROM {self.stage} WHERE {u} IS NOT NULL WINDOW w AS (PARTITION BY {u} ORDER BY line)
            ) x WHERE x.id <> x.first_id
            UNION ALL
            SELECT s.line, '{u}: already recorded for another {self.noun} in this force'
            FROM {self.stage} s JOIN {self.table} t ON t.{u} = s.{u} AND t.id <> s.id
        """

    def insert_sql(self, keys_from: str | None) -> str:
        """Insert through RLS (WITH CHECK keeps every row in the force); rows already present are skipped.
        People's search keys are inserted from `keys_from` when given (else they are in a bulk-load table)."""
        keys = "" if keys_from is None else f""", keys AS (
                INSERT INTO person_search_key ({', '.join(KEY_COLUMNS)})
                SELECT {', '.join(KEY_COLUMNS)} FROM {keys_from} WHERE person_id IN (SELECT id FROM inserted)
                ORDER BY {', '.join(KEY_COLUMNS)}  -- the index's order: sequential pages
            )"""
        return f"""
            WITH inserted AS (
                INSERT INTO {self.table} ({self.stored_columns})
                SELECT {self.stored_columns} FROM {self.stage} WHERE line <> ALL(CAST(:bad AS int[])) ORDER BY id
                ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id
            ){keys}{self.extra_inserts}
            SELECT count(*) FROM inserted
        """


KINDS = {
    "people": Kind(
        "person", "stage_person", PERSON_COLUMNS, person_row, "pnc_id", "PNC ID", "person",
        extra_stages=(("stage_person_key", "person_search_key", KEY_COLUMNS),
                      ("stage_other_name", "person_other_name",
                       ("tenant_id", "id", "person_id", "kind", "surname", "forenames"))),
        extra_inserts=""", names AS (
                INSERT INTO person_other_name (tenant_id, id, person_id, kind, surname, forenames)
                SELECT o.tenant_id, o.id, o.person_id, o.kind, o.surname, o.forenames
                FROM stage_other_name o WHERE o.person_id IN (SELECT id FROM inserted)
            )""",
    ),
    "objects": Kind("pole_object", "stage_object", OBJECT_COLUMNS, object_row),
    "locations": Kind("location", "stage_location", LOCATION_COLUMNS, location_row, "uprn", "UPRN", "location"),
}


def read_rows(stream: io.TextIOBase) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row of a CSV with a header line."""
    reader = csv.DictReader(stream)
    for row in reader:
        yield reader.line_num, row


def _column_types(conn: Connection, table: str, columns: tuple[str, ...]) -> list[str]:
    """The database types of `columns` of `table`, in order, as binary COPY needs them."""
    found: dict[str, str] = dict(conn.execute(text(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(:table) AND attnum > 0 AND NOT attisdropped"), {"table": table}).all())
    return [found[column] for column in columns]


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Millions of small tuples and no reference cycles: the cyclic collector would only rescan them (3x slower)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run(conn: Connection, kind: str, tenant_id: uuid.UUID, user: str, rows: Iterable[tuple[int, dict[str, str]]],
        progress: Callable[[int], None] = lambda n: None) -> Report:
    """Validate, stage and load `rows` in the caller's transaction (tenant context already set on `conn`).

    People's search keys go to a staging table and are inserted with their people, or, when the force has
    no search keys yet (its first load), into a table of their own that the database indexes in one pass
    and attaches as the force's partition of person_search_key (migration 0009).
    """
    report = Report(kind)
    spec = KINDS[kind]
    driver = conn.connection.driver_connection
    assert driver is not None, "a checked-out connection has its psycopg connection"
    conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")  # checking a large batch in memory, not on disk
    for statement in spec.staging_sql():
        conn.exec_driver_sql(statement)
    bulk_keys = conn.exec_driver_sql("SELECT app_search_keys_bulk_begin()").scalar() if kind == "people" else None
    targets = spec.copies()
    if bulk_keys:
        targets[1] = (bulk_keys, KEY_COLUMNS)
    buffers: list[list[tuple]] = [[] for _ in targets]
    first_line: dict[uuid.UUID, int] = {}

    types = [_column_types(conn, table, columns) for table, columns in targets]

    def flush() -> None:  # binary COPY: about half the time of text for millions of key rows
        with driver.cursor() as cursor:
            for (table, columns), column_types, buffer in zip(targets, types, buffers, strict=True):
                if buffer:
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
                        copy.set_types(column_types)
                        for record in buffer:
                            copy.write_row(record)
                    buffer.clear()

    with _without_cyclic_gc():
        for line, row in rows:
            report.rows += 1
            try:
                staged = spec.parse(tenant_id, user, line, row)
                record = staged[0] if kind == "people" else staged
                first = first_line.setdefault(record[1], line)
                if first != line:
                    raise RowError(f"source_ref: {row.get('source_ref') or 'empty, and the same row'} "
                                   f"is also on line {first}")
            except RowError as exc:
                report.bad.append((line, str(exc)))
            else:
                if kind == "people":
                    person, keys, names = staged
                    buffers[0].append(person)
                    buffers[1].extend(keys)
                    buffers[2].extend(names)
                else:
                    buffers[0].append(staged)
            if report.rows % BATCH == 0:
                flush()
                progress(BATCH)
        flush()
    progress(report.rows % BATCH)
    for table, _ in spec.copies():
        conn.exec_driver_sql(f"ANALYZE {table}")
    reasons: dict[int, str] = {}
    for line, reason in [*report.bad, *conn.execute(text(spec.clash_sql())).all()]:
        reasons.setdefault(line, reason)  # one reason per bad line: the first found
    report.bad = sorted(reasons.items())
    bad_lines = [line for line, _ in report.bad]
    if bulk_keys:  # the keys of rows that clashed are in the load table: take them out before it is indexed
        conn.execute(text(f"DELETE FROM {bulk_keys} WHERE person_id IN "
                          "(SELECT id FROM stage_person WHERE line = ANY(CAST(:bad AS int[])))"), {"bad": bad_lines})
    keys_from = "stage_person_key" if kind == "people" and not bulk_keys else None
    report.inserted = conn.execute(text(spec.insert_sql(keys_from)),
                                   {"bad": bad_lines}).scalar() or 0
    if bulk_keys:
        report.keys_in_bulk = conn.exec_driver_sql("SELECT app_search_keys_bulk_finish()").scalar_one()
    report.already_present = report.rows - len(report.bad) - report.inserted
    return report
