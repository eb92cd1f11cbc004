"""The floor for scripts/bench/people_get.py: the same SQL as GET /api/v1/people/{id}, served by a bare
Flask endpoint with no token, no ORM and no audit. BENCH_RLS=1 connects as the runtime role and names the
tenant per transaction (RLS on); otherwise it connects as the superuser (RLS bypassed)."""
import json
import os

import psycopg
from flask import Flask, Response

URL = os.environ["BENCH_DATABASE_URL"]
TENANT = os.environ["BENCH_TENANT_ID"]
RLS = os.environ.get("BENCH_RLS") == "1"

PERSON_SQL = (
    "SELECT tenant_id, id, version, surname, forenames, surname_key, forenames_key, date_of_birth, sex, pnc_id,"
    " classification, created_at, created_by, updated_at, updated_by FROM person WHERE tenant_id = %s AND id = %s"
)
OTHER_NAMES_SQL = (
    "SELECT tenant_id, id, person_id, kind, surname, forenames FROM person_other_name"
    " WHERE tenant_id = %s AND person_id = ANY(%s)"
)

app = Flask(__name__)
_conn = None  # a gunicorn sync worker serves one request at a time: one connection per worker


def connection() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(URL)
    return _conn


@app.get("/people/<person_id>")
def person(person_id: str):
    conn = connection()
    try:
        if RLS:
            # As Concord does: BEGIN and the set_config travel in one round trip (a psycopg pipeline).
            with conn.pipeline():
                conn.execute("SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', 'bench', true),"
                             " set_config('app.purpose', '', true)", (TENANT,), prepare=True)
        row = conn.execute(PERSON_SQL, (TENANT, person_id)).fetchone()
        others = conn.execute(OTHER_NAMES_SQL, (TENANT, [row[1]])).fetchall() if row else []
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    if row is None:
        return Response('{"code": 404}', status=404, mimetype="application/json")
    body = {"id": str(row[1]), "version": row[2], "surname": row[3], "forenames": row[4],
            "date_of_birth": row[7].isoformat() if row[7] else None, "sex": row[8], "pnc_id": row[9],
            "classification": row[10], "other_names": [{"kind": o[3], "surname": o[4]} for o in others],
            "created_at": row[11].isoformat(), "created_by": row[12], "updated_at": row[13].isoformat(),
            "updated_by": row[14]}
    return Response(json.dumps(body), mimetype="application/json", headers={"ETag": f'"{row[2]}"'})


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
