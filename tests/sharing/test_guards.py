"""Guard tests over the registry of record types: each catches a whole class of mistake, for every type that
exists now and every type added later (a new type needs its model class and its migration, nothing else)."""
from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from app.db import attachable_types, record_class, record_types, shareable_types
from tests.factories import attach, every_record
from tests.sharing.test_agreements import PURPOSE, share

OWN_COMMANDS = {"SELECT", "INSERT"}  # every tenant table; UPDATE and DELETE where the record changes


def policies(conn) -> dict[str, dict[str, str]]:
    """policy name -> {table, command} for every policy in the public schema."""
    rows = conn.execute(text("SELECT tablename, policyname, cmd FROM pg_policies WHERE schemaname = 'public'"))
    return {r.policyname: {"table": r.tablename, "command": r.cmd} for r in rows}


@pytest.fixture
def pg_policies(services):
    return policies(services.databases.overrides["pool"])


@pytest.mark.parametrize("record_type", record_types())
def test_every_record_type_has_own_force_and_sharing_policies(pg_policies, record_type):
    table = record_class(record_type).__tablename__
    own = {p["command"] for name, p in pg_policies.items() if p["table"] == table and name.startswith(f"{table}_own_")}
    assert own >= OWN_COMMANDS | {"UPDATE"}, f"{table} lacks own-force policies: has {sorted(own)}"
    shared = f"{table}_shared_select" in pg_policies
    assert shared == record_class(record_type).shareable, (
        f"{table}: a shareable type needs rls.shared_select in its migration; a never-shareable one has none")


@pytest.mark.parametrize("record_type", attachable_types())
def test_every_attachable_type_has_its_document_policy(pg_policies, record_type):
    policy = pg_policies.get(f"document_shared_select_{record_type}")
    assert policy == {"table": "document", "command": "SELECT"}, (
        f"documents attach to {record_type}: its migration must call rls.attached_documents")


def read_schemas() -> dict[str, list[Any]]:
    """Every record read schema of the app by the record type it masks as."""
    import app.cases.routes  # noqa: F401  (each domain's schemas, so that the subclasses exist)
    import app.custody.schemas  # noqa: F401
    import app.documents.routes  # noqa: F401
    import app.intelligence.schemas  # noqa: F401
    import app.investigations.schemas  # noqa: F401
    import app.people.schemas  # noqa: F401
    import app.pole.schemas  # noqa: F401
    from app.sharing.schemas import RecordReadSchema

    found: dict[str, list[Any]] = {}
    pending = list(RecordReadSchema.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.shared_as:
            found.setdefault(cls.shared_as, []).append(cls)
    return found


@pytest.mark.parametrize("record_type", shareable_types())
def test_every_maskable_field_is_a_field_its_read_schemas_mask(record_type):
    schemas = read_schemas().get(record_type)
    assert schemas, f"{record_type} has no read schema deriving from RecordReadSchema: nothing would mask it"
    declared = set().union(*(set(s._declared_fields) for s in schemas))
    for schema in schemas:
        if schema.wraps:
            declared |= set(schema._declared_fields[schema.wraps].nested._declared_fields)  # type: ignore[union-attr]
    missing = sorted(set(record_class(record_type).maskable) - declared - {"source"})
    assert not missing, f"{record_type}: maskable but shown by no read schema, so masking them does nothing: {missing}"


@pytest.mark.parametrize("record_type", attachable_types())
def test_a_document_is_invisible_above_the_ceiling_or_without_a_document_grant(north, south, north_admin,
                                                                               services, as_user, record_type):
    made = every_record_of(services, as_user, record_type)
    parent = made[record_type]
    plain = attach(north, record_type, parent["id"], b"plain")
    sensitive = attach(north, record_type, parent["id"], b"sensitive", classification="OFFICIAL-SENSITIVE")
    released = [record_type, *(("person", "location") if record_type == "link" else ())]  # a link needs its ends
    share(north_admin, record_types=released)  # the record only
    assert _document_view(south, record_type, parent, plain) == (set(), 404, 404)
    share(north_admin, record_types=[*released, "document"])
    assert _document_view(south, record_type, parent, plain) == ({plain["id"]}, 200, 200)
    assert _document_view(south, record_type, parent, sensitive) == ({plain["id"]}, 404, 404)


def _document_view(api, record_type, parent, document) -> tuple[set[str], int, int]:
    listed = api.get(f"/api/v1/documents?record_type={record_type}&record_id={parent['id']}", headers=PURPOSE)
    assert listed.status_code == 200, listed.get_json()
    return ({d["id"] for d in listed.get_json()["items"]},
            api.get(f"/api/v1/documents/{document['id']}/content", headers=PURPOSE).status_code,
            api.get(f"/api/v1/documents/{document['id']}/download-url", headers=PURPOSE).status_code)


def every_record_of(services, as_user, record_type) -> dict[str, Any]:
    """A record of one type (a live report, a booked detainee ...) of northshire."""
    from tests.custody.test_records import book
    from tests.factories import event, link, location, vehicle
    from tests.test_cases import shoplifting
    from tests.test_intelligence import ACCEPT, submit

    north = as_user("northshire", "investigator")
    simple = {"object": vehicle, "location": location, "event": event}
    if record_type in simple:
        return {record_type: {"id": str(simple[record_type](services, "northshire").id)}}
    if record_type == "person":
        return {"person": north.create_person()}
    if record_type == "link":
        start, end = north.create_person(), location(services, "northshire")
        return {"link": {"id": str(link(services, "northshire", ("person", uuid.UUID(start["id"])),
                                        ("location", end.id), "resides_at").id)}}
    if record_type == "custody":
        return {"custody": book(as_user("northshire", "custody_officer", user="ps-12"))}
    if record_type == "investigation":
        return {"investigation": shoplifting(north)[0]}
    if record_type == "intelligence":
        officer, analyst = as_user("northshire", "officer", user="pc-a"), as_user("northshire", "intelligence_analyst")
        report = submit(officer)
        analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess", json=ACCEPT)
        analyst.post(f"/api/v1/intelligence/reports/{report['id']}/links", json={"go_live": True})
        return {"intelligence": report}
    raise AssertionError(f"no factory for {record_type}: add one here and in tests.factories.every_record")


# --- every route that can return another force's record logs it for the provider ---------------------------------

PATH_RECORDS = {"person_id": "person", "object_id": "object", "location_id": "location", "event_id": "event",
                "link_id": "link", "record_id": "custody", "investigation_id": "investigation",
                "report_id": "intelligence", "case_id": "case", "document_id": "document:person"}
# Query values that make a list or search return the provider's records, by route.
QUERIES: dict[str, Any] = {
    "/api/v1/people": lambda m: {"surname": m["person"]["surname"]},
    "/api/v1/people/search": lambda m: {"name": f"{m['person']['forenames']} {m['person']['surname']}"},
    "/api/v1/objects": lambda m: {"vrm": m["object"]["vrm"]},
    "/api/v1/locations": lambda m: {"postcode": "NT1 1AA"},
    "/api/v1/network": lambda m: {"entity_type": "person", "entity_id": m["person"]["id"], "hops": 2},
    "/api/v1/documents": lambda m: {"record_type": "person", "record_id": m["person"]["id"]},
    "/api/v1/sharing/explain": lambda m: {"record_type": "person", "record_id": m["person"]["id"]},
    "/api/v1/cases/{case_id}/readiness": lambda m: {"stage": "charging_decision"},
}
SUITE = "NTH"
# The acting force's own logs: they name other forces' records it consulted, but return none of them.
OWN_LOGS = {"/api/v1/audit", "/api/v1/audit/checkpoints", "/api/v1/audit/events/{event_id}/proof",
            "/api/v1/sharing/access-log"}
# Routes that may refuse the consumer, and why; any other refusal fails the walk (it would hide the route).
MAY_REFUSE = {
    "/api/v1/custody/suites/{suite}/board": "a custody suite is its own force's: another force's is not found",
    "/api/v1/investigations/{investigation_id}/victims-code": "victims' contacts stay with the owning force",
    "/api/v1/cases/{case_id}/submissions": "a case file's submissions stay with the force that made them",
    "/api/v1/retention/reviews": "the review queue is its own force's records only, for its retention reviewers",
}
EVERY_ROLE = ("investigator", "intelligence_analyst", "custody_officer", "supervisor", "force_admin", "auditor")


def test_every_get_route_logs_each_shared_record_it_returns(app, services, as_user, north_admin):
    made = every_record(services, as_user, "northshire")
    share(north_admin, record_types=[*shareable_types(), "document"])
    theirs = _owned_by(services, "northshire")
    south = as_user("southshire", *EVERY_ROLE, user="ss-walker")
    north_auditor = as_user("northshire", "auditor", user="ns-aud")
    unlogged, refused, seen = walk_get_routes(app, south, north_auditor, made, theirs,
                                              skip=lambda path: path in OWN_LOGS)
    assert not refused, f"routes the walk could not check (give it a query, or say why they refuse): {refused}"
    assert not unlogged, f"returned to another force without an access-log row: {unlogged}"
    assert seen == {*shareable_types(), "document"}, "the walk must reach a shared record of every type"


def walk_get_routes(app, consumer, provider_auditor, made, theirs, *, skip):
    """Every GET route of the API document (but those `skip` names), filled with the records `made`, asked by the
    consumer with a purpose: the routes that refused, the provider's records returned without an access-log row
    (as the provider's auditor reads its log), and the record types reached."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    unlogged, refused, seen = [], [], set()
    for path, operations in spec["paths"].items():
        url = _fill(path, made)
        if "get" not in operations or skip(path) or url is None:
            continue
        request_id = f"walk-{uuid.uuid4().hex[:12]}"
        query = QUERIES.get(path, lambda m: {})(made)
        response = consumer.get(url, query_string=query, headers={**PURPOSE, "X-Request-Id": request_id})
        assert response.status_code < 500, (path, response.get_data(as_text=True)[:300])
        if response.status_code != 200:
            if path not in MAY_REFUSE:
                refused.append((path, response.status_code, response.get_json()))
            continue
        returned = _ids_in(response, url) & set(theirs)
        seen |= {theirs[i] for i in returned}
        logged = _logged(provider_auditor, request_id)
        unlogged += [(path, theirs[i], i) for i in sorted(returned - logged)]
    return unlogged, refused, seen


def _owned_by(services, slug: str) -> dict[str, str]:
    """id -> record type of every record (and document) the force holds, read as that force."""
    conn = services.databases.overrides["pool"]
    tables = {record_class(t).__tablename__: t for t in record_types()} | {"document": "document"}
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(services.registry.by_slug(slug).id)})
    try:
        return {str(row.id): record_type for table, record_type in tables.items()
                for row in conn.execute(text(f"SELECT id FROM {table}"))}
    finally:
        conn.execute(text("SELECT set_config('app.tenant_id', '', true)"))


def _fill(path: str, made: dict[str, Any]) -> str | None:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name == "suite":
            return SUITE
        if name == "agreement_id":
            raise LookupError(name)
        return str(made[PATH_RECORDS[name]]["id"])

    try:
        return re.sub(r"\{(\w+)\}", value, path)
    except LookupError:
        return None  # agreements are not records of a force


def _ids_in(response, url: str) -> set[str]:
    """The records a JSON answer returns: every object with an id and its owning force (what RecordReadSchema
    gives), every person shown by name, or the record an explanation is about; ids that only refer to another
    record are not records returned. For a download, the document in its URL."""
    if not response.is_json:
        return set(re.findall(r"[0-9a-f]{8}-[0-9a-f-]{27}", url))
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "force" in value and "id" in value:
                found.add(str(value["id"]))
            if "surname" in value and ("id" in value or "person_id" in value):  # a person shown by name
                found.add(str(value.get("person_id") or value["id"]))
            if "owner" in value and "record_id" in value:
                found.add(str(value["record_id"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(response.get_json())
    return found


def _logged(auditor, request_id: str) -> set[str]:
    items = auditor.get("/api/v1/sharing/access-log?page_size=100").get_json()["items"]
    return {str(i["record_id"]) for i in items if i["request_id"] == request_id}
