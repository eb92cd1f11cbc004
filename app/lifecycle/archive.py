"""`concord tenants export` and `import-archive`: everything a force holds as a versioned archive another system
can read (docs/tenant-export.md; its manifest's schema is docs/tenant-export.schema.json).

    manifest.json            what the archive holds: the force, each table's file, row count, SHA-256 and row
                             checksum, each document object's SHA-256
    tables/<table>.jsonl     one JSON object per row (column -> value as PostgreSQL's row_to_json writes it; a
                             json or jsonb column as a string holding its JSON text, or null for SQL NULL)
    objects/<sha256>         the document objects, named by their SHA-256

Every table is read from one snapshot (REPEATABLE READ, read only), so the archive is consistent. An export is
verified (each file read back and hashed against its manifest) before it is recorded as usable for offboarding.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from app.documents import storage as storage_backends
from app.lifecycle import database
from app.lifecycle.operations import Operation, Refused, Run, live_entry, record_done
from app.tenancy.config import Tenant

FORMAT = "concord-tenant-export"
FORMAT_VERSION = 1
BATCH_ROWS = 1000


def export(*, run: Run, slug: str, to: str) -> dict[str, Any]:
    """Write the force's archive to a directory or s3://bucket/prefix, verify it and record it; its manifest."""
    current = live_entry(run, slug)
    tenant = Tenant.from_settings(current.settings)
    url = database.owner_url(run.settings, slug, current.deployment)
    store = storage_backends.for_tenant(tenant, run.settings.var_dir)
    if run.dry_run:
        with database.connect(url, tenant.id) as conn:
            counts = database.checksums(conn, database.tenant_tables(conn), tenant.id)
        run.reporter.say(f"would export {sum(c for c, _ in counts.values())} row(s) of {slug} to {to}")
        return {}
    with _staging(to) as directory:
        manifest = _write(run, tenant, current.deployment, url, store, directory)
        _upload(run, tenant, directory, to)
        problems = verify(run=run, location=to)
    if problems:
        raise Refused(f"the export of {slug} to {to} did not verify: {'; '.join(problems)}")
    record_done(run, slug, "export", {
        "location": to, "verified": True, "format_version": FORMAT_VERSION,
        "checksums": {t["name"]: [t["rows"], t["checksum"]] for t in manifest["tables"]},
        "manifest_sha256": hashlib.sha256(_manifest_bytes(manifest)).hexdigest()})
    run.reporter.say(f"exported {sum(t['rows'] for t in manifest['tables'])} row(s) and {len(manifest['objects'])} "
                     f"object(s) of {slug} to {to} (verified)")
    return manifest


def _write(run: Run, tenant: Tenant, deployment: str, url: Any, store: storage_backends.Storage,
           directory: Path) -> dict[str, Any]:
    (directory / "tables").mkdir(parents=True, exist_ok=True)
    (directory / "objects").mkdir(exist_ok=True)
    tables_out = []
    with database.connect(url, tenant.id) as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        revision = database.revision(conn)
        tables = database.tenant_tables(conn)
        sums = database.checksums(conn, tables, tenant.id)
        for table in tables:
            count, checksum = sums[table.name]
            path = directory / "tables" / f"{table.name}.jsonl"
            with run.reporter.progress(f"exporting {table.name}", count) as bar, path.open("wb") as out:
                for line in _rows_as_json(conn, table, tenant.id):
                    out.write(line + b"\n")
                    bar(1)
            tables_out.append({"name": table.name, "file": f"tables/{table.name}.jsonl", "columns": list(table.columns),
                               "rows": count, "checksum": checksum, "sha256": _sha256_file(path)})
        documents = conn.execute(sql.SQL("SELECT DISTINCT storage_key, sha256 FROM document WHERE tenant_id = {} "
                                         "ORDER BY 1").format(sql.Literal(str(tenant.id)))).fetchall()
    objects = []
    with run.reporter.progress("exporting document objects", len(documents), "objects") as bar:
        for key, sha256 in documents:
            content = store.get(key)
            (directory / "objects" / sha256).write_bytes(content)
            objects.append({"key": key, "sha256": sha256, "size": len(content), "file": f"objects/{sha256}"})
            bar(1)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": datetime.now(UTC).isoformat(),
        "schema_revision": revision,
        "force": {"id": str(tenant.id), "slug": tenant.slug, "name": tenant.name, "force_code": tenant.force_code,
                  "deployment": deployment, "settings": tenant.settings},
        "tables": tables_out,
        "objects": objects,
        "audit_trail": "tables/audit_event.jsonl",
    }
    (directory / "manifest.json").write_bytes(_manifest_bytes(manifest))
    return manifest


def _rows_as_json(conn: psycopg.Connection, table: database.TenantTable, force: uuid.UUID) -> Iterator[bytes]:
    query = sql.SQL("SELECT row_to_json(r)::text FROM ({}) r").format(table.select_as_text_json(force))
    with conn.cursor(name=f"export_{table.name}") as cursor:
        cursor.itersize = BATCH_ROWS
        for (line,) in cursor.execute(query):
            yield line.encode()


def verify(*, run: Run, location: str) -> list[str]:
    """Read an archive back and compare every file with its manifest; the problems found (none: it verified)."""
    with _readable(run, location) as directory:
        manifest_path = directory / "manifest.json"
        if not manifest_path.exists():
            return ["no manifest.json"]
        manifest = json.loads(manifest_path.read_bytes())
        problems = []
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            return [f"not a {FORMAT} version {FORMAT_VERSION} archive"]
        for table in manifest["tables"]:
            path = directory / table["file"]
            if not path.exists():
                problems.append(f"{table['file']}: missing")
                continue
            lines = sum(1 for _ in path.open("rb"))
            if lines != table["rows"] or _sha256_file(path) != table["sha256"]:
                problems.append(f"{table['file']}: {lines} row(s), SHA-256 {_sha256_file(path)}; the manifest says "
                                f"{table['rows']}, {table['sha256']}")
        for item in manifest["objects"]:
            path = directory / item["file"]
            if not path.exists() or _sha256_file(path) != item["sha256"]:
                problems.append(f"{item['file']}: missing or not matching its SHA-256")
        return problems


def import_archive(*, run: Run, slug: str, source: str) -> dict[str, int]:
    """Load an archive into the same force, registered and holding no rows (or, resumed, only what a stopped import
    of it loaded); the rows loaded per table (none when the force holds the archive's rows already)."""
    current = live_entry(run, slug)
    tenant = Tenant.from_settings(current.settings)
    url = database.owner_url(run.settings, slug, current.deployment)
    store = storage_backends.for_tenant(tenant, run.settings.var_dir)
    problems = verify(run=run, location=source)
    if problems:
        raise Refused(f"the archive at {source} does not verify: {'; '.join(problems)}")
    with _readable(run, source) as directory:
        manifest = json.loads((directory / "manifest.json").read_bytes())
        if manifest["force"]["id"] != str(tenant.id):
            raise Refused(f"the archive holds force {manifest['force']['slug']}'s records, not {slug}'s (ids are "
                          "derived from the slug, and records name their force)")
        wanted = {e["name"]: [e["rows"], e["checksum"]] for e in manifest["tables"]}
        with run.pool() as pool:
            running = pool.execute("SELECT details FROM tenant_operation WHERE slug = %s AND operation = 'import' "
                                   "AND status = 'running'", (slug,)).fetchone()
        if running is not None and running.details["source"] != source:
            raise Refused(f"force {slug}: an import from {running.details['source']} has not finished; run "
                          f"`concord tenants import-archive {slug} --from {running.details['source']}` to finish it")
        with database.connect(url, tenant.id) as conn:
            tables = {table.name: table for table in database.tenant_tables(conn)}
            if manifest["schema_revision"] != database.revision(conn):
                raise Refused(f"the archive was made at migration {manifest['schema_revision']}, the database is at "
                              f"{database.revision(conn)}")
            sums = database.checksums(conn, list(tables.values()), tenant.id)
            held = [name for name, (count, _) in sums.items() if count]
            if held and running is None and all(sums[name] == want for name, want in wanted.items()):
                missing = [item for item in manifest["objects"] if not store.exists(item["key"])]
                _put_objects(run, store, directory, missing)
                run.reporter.say(f"{slug} holds this archive's records already: nothing to import"
                                 + (f" but {len(missing)} missing object(s)" if missing else ""))
                return {}
            if held and running is None:
                raise Refused(f"force {slug} holds records already ({', '.join(held)}): import only into an "
                              "empty force")
            if run.dry_run:
                run.reporter.say(f"would import {sum(t['rows'] for t in manifest['tables'])} row(s) into {slug}")
                return {}
            operation = Operation.begin(run, slug, "import", {"source": source})
            if not operation.done("rows_loaded"):
                database.remove_rows(conn, list(tables.values()), tenant.id)  # what a stopped import loaded
                loaded = {}
                for entry in manifest["tables"]:
                    table = tables[entry["name"]]
                    path = directory / entry["file"]
                    with run.reporter.progress(f"importing {table.name}", entry["rows"]) as bar:
                        def load(t: database.TenantTable = table, p: Path = path, b: Any = bar) -> int:
                            return _load(conn, t, p, b)

                        loaded[table.name] = database.bypassing(conn, table.name, load)
                found = database.checksums(conn, list(tables.values()), tenant.id)
                differ = [name for name, want in wanted.items() if found[name] != want]
                if differ:
                    database.remove_rows(conn, list(tables.values()), tenant.id)
                    operation.finish("failed", differ=differ)
                    raise Refused(f"the imported rows do not match the archive's checksums in {', '.join(differ)}; "
                                  "they were removed again")
                operation.mark("rows_loaded", rows=loaded)
        _put_objects(run, store, directory, manifest["objects"])
    operation.finish("done")
    loaded = operation.details["rows"]
    run.reporter.say(f"imported {sum(loaded.values())} row(s) and {len(manifest['objects'])} object(s) into {slug}")
    return loaded


def _put_objects(run: Run, store: storage_backends.Storage, directory: Path, objects: list[dict[str, Any]]) -> None:
    with run.reporter.progress("importing document objects", len(objects), "objects") as bar:
        for item in objects:
            store.put(item["key"], (directory / item["file"]).read_bytes(), "application/octet-stream")
            bar(1)


def _load(conn: psycopg.Connection, table: database.TenantTable, path: Path, bar: Any) -> int:
    values = sql.SQL(", ").join(
        sql.SQL("CAST(e ->> {} AS jsonb)").format(sql.Literal(name)) if name in table.json_columns
        else sql.SQL("r.{}").format(sql.Identifier(name)) for name in table.columns)
    statement = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM jsonb_array_elements(%s::jsonb) e, "
                        "jsonb_populate_record(NULL::{}, e) r").format(
        sql.Identifier(table.name), table.column_list, values, sql.Identifier(table.name))
    total = 0
    batch: list[str] = []
    with path.open("rb") as lines:
        for line in lines:
            batch.append(line.decode().rstrip("\n"))
            if len(batch) == BATCH_ROWS:
                total += _insert(conn, statement, batch, bar)
                batch = []
    if batch:
        total += _insert(conn, statement, batch, bar)
    return total


def _insert(conn: psycopg.Connection, statement: sql.Composed, batch: list[str], bar: Any) -> int:
    conn.execute(statement, ("[" + ",".join(batch) + "]",))
    bar(len(batch))
    return len(batch)


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _s3(location: str) -> tuple[str, str]:
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    return bucket, prefix.strip("/")


def _client(run: Run) -> Any:
    if run.s3_client is not None:
        return run.s3_client()
    import boto3

    return boto3.client("s3")


@contextmanager
def _staging(to: str) -> Iterator[Path]:
    """Where the archive is written: the directory itself, or a temporary one uploaded to S3."""
    if not to.startswith("s3://"):
        directory = Path(to)
        found = {path.name for path in directory.iterdir()} if directory.is_dir() else set()
        if found and not found <= {"tables", "objects"}:  # the manifest is written last: without it, a stopped export
            raise Refused(f"{to} is not empty: export into a new or empty directory")
        for name in found:
            shutil.rmtree(directory / name)
        directory.mkdir(parents=True, exist_ok=True)
        yield directory
        return
    with tempfile.TemporaryDirectory(prefix="concord-export-") as tmp:
        yield Path(tmp)


def _upload(run: Run, tenant: Tenant, directory: Path, to: str) -> None:
    """Put the archive under the S3 prefix, each object encrypted under the force's own key when it has one (its
    `[storage] kms_key_id`; the exports buckets refuse any other), else the bucket's default."""
    if not to.startswith("s3://"):
        return
    key_id = (tenant.settings.get("storage") or {}).get("kms_key_id")
    encryption = {"ServerSideEncryption": "aws:kms", **({"SSEKMSKeyId": key_id} if key_id else {})}
    bucket, prefix = _s3(to)
    client = _client(run)
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    with run.reporter.progress(f"uploading to {to}", len(files), "files") as bar:
        for path in files:
            key = "/".join(filter(None, [prefix, path.relative_to(directory).as_posix()]))
            client.upload_file(str(path), bucket, key, ExtraArgs=encryption)
            bar(1)


@contextmanager
def _readable(run: Run, location: str) -> Iterator[Path]:
    """The archive as local files: the directory, or a download of the S3 prefix."""
    if not location.startswith("s3://"):
        yield Path(location)
        return
    bucket, prefix = _s3(location)
    client = _client(run)
    tmp = Path(tempfile.mkdtemp(prefix="concord-archive-"))
    try:
        start = f"{prefix}/" if prefix else ""
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=start):
            for item in page.get("Contents", []):
                path = tmp / item["Key"][len(start):]
                path.parent.mkdir(parents=True, exist_ok=True)
                client.download_file(bucket, item["Key"], str(path))
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
