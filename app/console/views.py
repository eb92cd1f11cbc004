"""The console's pages: thin views, each calling the same service as the API route it mirrors, under the same
principal, tenant context, row-level security, permissions, masking and audit (the request hooks in
app/__init__.py set them up for /console exactly as for /api/v1, from the server-side session instead of a
bearer token, with the purpose the user stated in place of X-Purpose). Input is read by the API's own schemas,
so a page refuses exactly what the API refuses, with the same reasons, shown in an error summary.
"""
from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError, fields

from app.audit import service as audit
from app.audit.schemas import AuditEventSchema, AuditQuerySchema
from app.auth.guard import current_principal, requires
from app.auth.permissions import (
    AUDIT_READ,
    CUSTODY_READ,
    CUSTODY_WRITE,
    PEOPLE_READ,
    PEOPLE_WRITE,
    POLE_READ,
    SHARING_ADMIN,
    TASKS_READ,
)
from app.console import pages, sessions
from app.console.signin import SignInRequired
from app.custody import service as custody
from app.custody.schemas import ENTRY_DATA, BoardItemSchema, CustodyDetailSchema, EntryCreateSchema
from app.db import transaction
from app.errors import ApiError
from app.people import search
from app.people import service as people
from app.people.identifiers import has_control_characters
from app.people.schemas import PersonCreateSchema, PersonSchema, PersonSearchQuerySchema, SearchResultSchema
from app.pole import links
from app.pole.schemas import LinkSchema, NetworkSchema
from app.sharing import agreements, visibility
from app.sharing.schemas import (
    AccessQuerySchema,
    AccessSchema,
    AgreementCreateSchema,
    AgreementDetailSchema,
    AgreementSchema,
    TransitionSchema,
)
from app.tasks import service as tasks
from app.tenancy import modules

blueprint = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
PERSON_FIELDS = (("surname", "Surname"), ("forenames", "Forenames"), ("date_of_birth", "Date of birth"),
                 ("sex", "Sex"), ("pnc_id", "PNC ID"), ("place_of_birth", "Place of birth"),
                 ("ethnicity_code", "Ethnicity code"), ("height_cm", "Height (cm)"), ("build", "Build"),
                 ("marks", "Marks"), ("tattoos", "Tattoos"), ("classification", "Handling"))
SEXES = ("male", "female", "unknown")
NETWORK_HOPS = 2  # the person's links and their links: the second degree


def module(name: str) -> Callable:
    """The module a page belongs to: a force whose file does not list it is answered 404, as the API's routes are."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            modules.require(current_principal().tenant, name)
            return view(*args, **kwargs)

        return wrapper

    return decorator


@blueprint.before_request
def _csrf() -> None:
    """Every form the console posts carries Flask-WTF's CSRF token (checked before the view runs)."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        current_app.extensions["csrf"].protect()


@blueprint.context_processor
def _layout() -> dict[str, Any]:
    principal = g.get("principal")
    return {"principal": principal, "purpose": g.get("console_purpose", "")}


@blueprint.app_template_filter("force_name")
def _force_name(slug: str) -> str:
    tenant = current_app.extensions["concord"].registry.by_slug(slug or "")
    return tenant.name if tenant is not None else slug


@blueprint.app_template_filter("duration")
def _duration(minutes: int | None) -> str:
    if minutes is None:
        return "–"
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(int(minutes)), 60)
    return f"{sign}{hours} h {rest:02d} min"


@blueprint.app_template_filter("next_due")
def _next_due(clock: dict[str, Any]) -> tuple[str, str, str] | None:
    """The clock's next due item: (what, when, time left), the soonest of review, visit, doses and the limit."""
    due = [("review", clock.get("next_review_due")), ("visit", clock.get("next_visit_due")),
           ("detention limit", clock.get("detention_limit"))]
    due += [(f"dose: {d['name']}", d["due_at"]) for d in clock.get("next_doses_due", [])]
    known = sorted(((datetime.fromisoformat(at), what, at) for what, at in due if at), key=lambda d: d[0])
    if not known:
        return None
    moment, what, at = known[0]
    left = int((moment - datetime.now(timezone.utc)).total_seconds() // 60)
    return what, at, ("overdue by " + _duration(-left)) if left < 0 else _duration(left)


@blueprint.errorhandler(SignInRequired)
def _sign_in(error: SignInRequired):
    return error.get_response()


@blueprint.errorhandler(CSRFError)
def _csrf_refused(error: CSRFError):
    return render_template("console/error.html", status=400,
                           message="This form had expired or did not come from Concord: go back, reload and send "
                                   "it again."), 400


def error_page(error: ApiError):
    """An API error as a page (a refused permission, another force's record: not found)."""
    return render_template("console/error.html", status=error.status, message=error.message), error.status


def _form_errors(error: ValidationError | ApiError) -> dict[str, str]:
    messages: Any = error.messages if isinstance(error, ValidationError) else (error.errors or {"": [error.message]})
    flat = {}
    for name, value in messages.items():
        while isinstance(value, dict):
            value = next(iter(value.values()))
        flat[str(name)] = "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return flat


@blueprint.get("/")
def home():
    """What you can do, by your roles."""
    return render_template("console/home.html")


@blueprint.get("/purpose")
def purpose_form():
    """The form to state (or change) your purpose."""
    return render_template("console/purpose.html", next=request.args.get("next", ""), errors={})


@blueprint.post("/purpose")
def purpose():
    """State why you are working (it goes with every request from now on, as X-Purpose does for the API)."""
    stated = request.form.get("purpose", "").strip()
    target = request.form.get("next", "")
    target = target if target.startswith("/console/") else url_for("console.home")
    if not stated or len(stated) > sessions.MAX_PURPOSE_LENGTH or has_control_characters(stated):
        return render_template("console/purpose.html", next=target,
                               errors={"purpose": f"Enter why you need it (at most {sessions.MAX_PURPOSE_LENGTH} "
                                                  "characters, in plain text)"}), 422
    sessions.set_purpose(current_app.extensions["concord"].databases, g.console, purpose=stated)
    return redirect(target, 303)


def _needs_purpose():
    """Records are consulted for a stated purpose: without one, the page asks for it first."""
    if not g.get("console_purpose"):
        return render_template("console/purpose.html", next=request.full_path.rstrip("?"), errors={})
    return None


def _search_form() -> dict[str, str]:
    return {name: request.args.get(name, "").strip() for name in ("name", "date_of_birth", "identifier")}


@blueprint.get("/people/search")
@requires(PEOPLE_READ)
@module("people")
def people_search():
    """Search as you type: names in any order, a date of birth, an identifier."""
    asked = _needs_purpose()
    if asked is not None:
        return asked
    form = _search_form()
    context = _search(form) if any(form.values()) else {"results": None, "errors": {}, "total": 0}
    return render_template("console/search.html", form=form, **context)


@blueprint.get("/people/search/results")
@requires(PEOPLE_READ)
@module("people")
def people_search_results():
    """The results part of the search page (what htmx swaps in as you type)."""
    asked = _needs_purpose()
    if asked is not None:
        return asked
    form = _search_form()
    context = _search(form) if any(form.values()) else {"results": None, "errors": {}, "total": 0}
    return render_template("console/_results.html", form=form, **context)


def _search(form: dict[str, str]) -> dict[str, Any]:
    try:
        query = PersonSearchQuerySchema().load({k: v for k, v in form.items() if v})
    except ValidationError as exc:
        return {"results": None, "errors": _form_errors(exc), "total": 0}
    with transaction(g.session):
        found = search.search_page(g.session, current_principal(), search.Criteria(**query), sessions=g.sessions)
    return {"results": SearchResultSchema(many=True).dump(found.results), "errors": {}, "total": found.total,
            "left_out": found.left_out}


@blueprint.get("/people/<uuid:person_id>")
@requires(PEOPLE_READ)
@module("people")
def person(person_id: uuid.UUID):
    """A person: details, other names, markers, links, documents and who can see them, read in one transaction
    (one consultation); another force's is read-only, masked. The network is asked for on the page."""
    asked = _needs_purpose()
    if asked is not None:
        return asked
    principal = current_principal()
    page = pages.person_page(g.sessions, principal, current_app.extensions["concord"].registry, person_id=person_id)
    data = PersonSchema().dump(page.person)
    docs = [visibility.mask_dump(principal, visibility.document_grant("person"), d.tenant_id,
                                 {"filename": d.filename, "media_type": d.media_type, "size": d.size})
            for d in page.documents]
    return render_template("console/person.html", person=data, fields=PERSON_FIELDS,
                           links=LinkSchema(many=True).dump(page.links), documents=docs, seen=page.seen,
                           held_elsewhere=page.held_elsewhere, withheld=set(data.get("shared", {}).get("masked", [])))


@blueprint.get("/people/<uuid:person_id>/network")
@requires(POLE_READ)
@module("people")
def person_network(person_id: uuid.UUID):
    """The people, objects, places and events within two links of a person, each with the links that reach it
    (the page's network section, which htmx fills in when asked; without script, a page of its own)."""
    asked = _needs_purpose()
    if asked is not None:
        return asked
    found = NetworkSchema().dump(links.network(g.session, current_principal(), "person", person_id, NETWORK_HOPS))
    template = "console/_network.html" if request.headers.get("HX-Request") else "console/network.html"
    return render_template(template, network=found, person_id=str(person_id))


@blueprint.route("/people/new", methods=["GET", "POST"])
@requires(PEOPLE_WRITE)
@module("people")
def person_new():
    """Record a person; when they probably exist already, the candidates are shown to choose from."""
    form = {name: request.form.get(name, "").strip() for name in ("surname", "forenames", "date_of_birth", "sex",
                                                                   "pnc_id")}
    if request.method == "GET":
        return render_template("console/person_new.html", form=form, errors={}, candidates=None, sexes=SEXES)
    try:
        data = PersonCreateSchema().load({k: v for k, v in form.items() if v})
        created = people.create(g.session, current_principal(), data, confirm_new=request.form.get("confirm") == "1")
    except people.ProbableDuplicate as exc:
        visibility.record_disclosure(g.session, current_principal(), exc.disclosed, via=request.endpoint or "")
        return render_template("console/person_new.html", form=form, errors={}, sexes=SEXES,
                               candidates=SearchResultSchema(many=True).dump(exc.candidates)), 409
    except (ValidationError, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.status not in (409, 422):
            raise
        return render_template("console/person_new.html", form=form, errors=_form_errors(exc), candidates=None,
                               sexes=SEXES), 422
    return redirect(url_for("console.person", person_id=created.id), 303)


# --- collaboration administrators and force admins ----------------------------------------------------------

def _actor() -> agreements.Actor:
    return agreements.Actor(current_principal(), current_app.extensions["concord"].registry)


AGREEMENT_LABELS = {"consumer_force": "Consumer force", "consumer_collaboration": "Consumer collaboration",
                    "record_types": "Record types", "max_classification": "Highest classification",
                    "purpose": "Purpose", "lawful_basis": "Lawful basis", "handling_codes": "Handling codes",
                    "field_profile": "Masked fields", "valid_to": "Valid until", "reason": "Reason"}


@blueprint.get("/agreements")
@requires(SHARING_ADMIN)
@module("sharing")
def agreements_index():
    """The agreements your force provides, receives or administers, with their status."""
    return render_template("console/agreements.html",
                           agreements=AgreementSchema(many=True).dump(agreements.find(g.session)))


def _propose_form() -> dict[str, Any]:
    form = request.form
    masked = {t: form.getlist(f"masked-{t}") for t in form.getlist("record_types")}
    consumer = form.get("consumer", "")
    kind, _, slug = consumer.partition(":")
    data: dict[str, Any] = {"record_types": form.getlist("record_types"),
                            "max_classification": form.get("max_classification", ""),
                            "handling_codes": form.getlist("handling_codes") or ["P"],
                            "field_profile": {t: {"masked": m} for t, m in masked.items() if m},
                            "purpose": form.get("purpose", "").strip(),
                            "lawful_basis": form.get("lawful_basis", "").strip()}
    if kind == "collaboration":
        data["consumer_collaboration"] = slug
    elif kind == "force":
        data["consumer_force"] = slug
    return data


@blueprint.route("/agreements/new", methods=["GET", "POST"])
@requires(SHARING_ADMIN)
@module("sharing")
def agreement_new():
    """Propose sharing your force's records: what, with whom, masked how (the editor shows every maskable field)."""
    registry = current_app.extensions["concord"].registry
    principal = current_principal()
    context = {"types": [(t, visibility.maskable(t)) for t in agreements.nameable_types()],
               "forces": [t for t in registry.tenants() if t.id != principal.tenant.id],
               "collaborations": [c for c in registry.collaborations() if principal.tenant.slug in c.members],
               "labels": AGREEMENT_LABELS, "form": request.form, "errors": {}}
    if request.method == "GET":
        return render_template("console/agreement_new.html", **context)
    try:
        agreement = agreements.propose(g.sessions, _actor(), AgreementCreateSchema().load(_propose_form()))
    except (ValidationError, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.status not in (409, 422):
            raise
        context["errors"] = _form_errors(exc)
        return render_template("console/agreement_new.html", **context), 422
    return redirect(url_for("console.agreement", agreement_id=agreement.id), 303)


@blueprint.get("/agreements/<uuid:agreement_id>")
@requires(SHARING_ADMIN)
@module("sharing")
def agreement(agreement_id: uuid.UUID, errors: dict[str, str] | None = None, simulation: Any = None):
    """An agreement with its history, and what you may do to it next."""
    detail = AgreementDetailSchema().dump(agreements.get(g.session, agreement_id))
    return render_template("console/agreement.html", agreement=detail, errors=errors or {}, simulation=simulation,
                           labels=AGREEMENT_LABELS)


@blueprint.post("/agreements/<uuid:agreement_id>/simulate")
@requires(SHARING_ADMIN)
@module("sharing")
def agreement_simulate(agreement_id: uuid.UUID):
    """How many records of each type the consumers would gain, before approving."""
    return agreement(agreement_id, simulation=agreements.simulate(g.sessions, _actor(), agreement_id))


@blueprint.post("/agreements/<uuid:agreement_id>/<any(approve, suspend, reinstate, revoke):action>")
@requires(SHARING_ADMIN)
@module("sharing")
def agreement_transition(agreement_id: uuid.UUID, action: str):
    """approve, suspend, reinstate or revoke, with a reason."""
    try:
        data = TransitionSchema().load({"reason": request.form.get("reason", "").strip()})
        agreements.transition(g.sessions, _actor(), agreement_id, action, data["reason"])
    except (ValidationError, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.status not in (409, 422):
            raise
        return agreement(agreement_id, errors=_form_errors(exc)), 422
    return redirect(url_for("console.agreement", agreement_id=agreement_id), 303)


@blueprint.get("/access-log")
@requires(AUDIT_READ)
@module("sharing")
def access_log():
    """Other forces' reads of your force's records: who, from which force, why, when; filterable."""
    form = {name: request.args.get(name, "").strip() for name in ("force", "user", "record_id", "from", "to")}
    errors: dict[str, str] = {}
    items: list[Any] = []
    total = 0
    try:
        query = AccessQuerySchema().load({k: v for k, v in form.items() if v} | {"page": request.args.get("page", 1)})
        force = None
        if query.get("force"):
            tenant = current_app.extensions["concord"].registry.by_slug(query["force"])
            if tenant is None:
                raise ValidationError({"force": ["no such force"]})
            force = tenant.id
        found, total = visibility.access_log(g.session, current_principal(), visibility.AccessQuery(
            force=force, user=query.get("user"), record_id=query.get("record_id"), from_=query.get("from_"),
            to=query.get("to"), page=query["page"], page_size=query["page_size"]))
        items = AccessSchema(many=True).dump(found)
    except ValidationError as exc:
        errors = _form_errors(exc)
    return render_template("console/access_log.html", form=form, errors=errors, items=items, total=total,
                           forces=current_app.extensions["concord"].registry.tenants())


# --- custody -------------------------------------------------------------------------------------------------

# What the board shows of each detainee (the whole record is on the detainee's own page); it refreshes every 30 s.
BOARD_FIELDS = ("record.id", "record.custody_number", "person", "clock")


@blueprint.get("/custody")
@requires(CUSTODY_READ)
@module("custody")
def custody_board():
    """The suite board: every detainee, most urgent first, with the next due item and the time left."""
    suites = current_principal().tenant.settings.get("custody_suites", [])
    suite = request.args.get("suite") or (suites[0]["code"] if suites else "")
    board = custody.board(g.session, current_principal(), suite) if suite else []
    items = BoardItemSchema(many=True, only=BOARD_FIELDS).dump(board)
    template = "console/_board.html" if request.headers.get("HX-Request") else "console/board.html"
    return render_template(template, suites=suites, suite=suite, items=items)


# How the form asks for each kind of entry detail: a list one item per line, a mapping (a risk assessment's answers)
# one "question: answer" per line, a yes or no chosen; anything else typed.
ENTRY_INPUTS = ((fields.List, "lines", "One per line"),
                (fields.Dict, "answers", "One per line, as question: answer (a line without a colon is a note)"),
                (fields.Boolean, "yes_no", ""))
ANSWER_NOTE = "notes"  # where a risk assessment line with no question goes


def _entry_fields(kind: str) -> list[dict[str, str]]:
    """The form's inputs for a kind of entry's details: name, label, input and hint."""
    out = []
    for name, field in ENTRY_DATA[kind].items():
        shown, hint = next(((shown, hint) for type_, shown, hint in ENTRY_INPUTS if isinstance(field, type_)),
                           ("text", ""))
        out.append({"name": name, "label": name.replace("_", " ").capitalize(), "input": shown, "hint": hint})
    return out


def _answers(name: str, text: str) -> dict[str, str]:
    """A risk assessment's answers from "question: answer" lines; lines without a question are kept as notes."""
    answers: dict[str, str] = {}
    notes = []
    for line in filter(None, (line.strip() for line in text.splitlines())):
        question, colon, answer = line.partition(":")
        if not colon or not question.strip():
            notes.append(line)
        elif question.strip() in answers:
            raise ValidationError({"data": {name: [f"{question.strip()!r} is answered twice"]}})
        else:
            answers[question.strip()] = answer.strip()
    if notes:
        answers[ANSWER_NOTE] = "\n".join([answers[ANSWER_NOTE], *notes] if ANSWER_NOTE in answers else notes)
    return answers


def _entry_data(kind: str) -> dict[str, Any]:
    """The entry's details as the form gave them, lists and answers made from their lines (empty ones left out)."""
    data: dict[str, Any] = {}
    for item in _entry_fields(kind) if kind in ENTRY_DATA else []:
        raw = request.form.get(f"data-{item['name']}", "").strip()
        if item["input"] == "lines":
            data[item["name"]] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif item["input"] == "answers":
            data[item["name"]] = _answers(item["name"], raw)
        else:
            data[item["name"]] = raw
    return {name: value for name, value in data.items() if value}


def _entry_errors(error: ValidationError | ApiError) -> dict[str, str]:
    """The form's errors, an entry detail's under its own input (data-<name>)."""
    nested = error.messages.get("data") if isinstance(error, ValidationError) and isinstance(error.messages, dict) \
        else None
    if isinstance(nested, dict):
        return {f"data-{name}": message for name, message in _form_errors(ValidationError(nested)).items()}
    return {name.replace("data.", "data-", 1): message for name, message in _form_errors(error).items()}


@blueprint.get("/custody/records/<uuid:record_id>")
@requires(CUSTODY_READ)
@module("custody")
def custody_record(record_id: uuid.UUID, errors: dict[str, str] | None = None, status: int = 200):
    """A detainee's record: the clock, the timeline, and the form to add an entry."""
    asked = _needs_purpose()
    if asked is not None:
        return asked
    detail = CustodyDetailSchema().dump(custody.get(g.session, current_principal(), record_id, sessions=g.sessions))
    kind = request.values.get("kind") or "visit"
    kind = kind if kind in ENTRY_DATA else "visit"
    data_fields = _entry_fields(kind)
    labels = {"kind": "Kind", "occurred_at": "When", "corrects_id": "Entry corrected", "data": "Details",
              **{f"data-{f['name']}": f["label"] for f in data_fields}}
    return render_template("console/custody_record.html", detail=detail, kinds=sorted(ENTRY_DATA), kind=kind,
                           data_fields=data_fields, labels=labels, form=request.form, errors=errors or {}), status


@blueprint.post("/custody/records/<uuid:record_id>/entries")
@requires(CUSTODY_WRITE)
@module("custody")
def custody_entry(record_id: uuid.UUID):
    """Add an entry; the clock's refusal (a PACE rule) comes back as a plain message on the form."""
    kind = request.form.get("kind", "")
    try:
        given = {"kind": kind, "occurred_at": request.form.get("occurred_at", ""), "data": _entry_data(kind)}
        if request.form.get("corrects_id"):
            given["corrects_id"] = request.form["corrects_id"]
        entry = EntryCreateSchema().load(given)
        custody.add_entry(g.session, current_principal(), record_id, entry)
    except (ValidationError, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.status not in (409, 422):
            raise
        return custody_record(record_id, errors=_entry_errors(exc), status=422 if isinstance(exc, ValidationError)
                              else exc.status)
    return redirect(url_for("console.custody_record", record_id=record_id), 303)


# --- auditors, and everyone's tasks ----------------------------------------------------------------------------

@blueprint.get("/audit")
@requires(AUDIT_READ)
def audit_trail():
    """Your force's audit trail: by record, user and time, newest first."""
    form = {name: request.args.get(name, "").strip() for name in ("record_id", "user", "from", "to")}
    errors: dict[str, str] = {}
    items: list[Any] = []
    total = 0
    try:
        query = AuditQuerySchema().load({k: v for k, v in form.items() if v} | {"page": request.args.get("page", 1)})
        found, total = audit.search(g.session, current_principal(), audit.AuditQuery(**query))
        items = AuditEventSchema(many=True).dump(found)
    except ValidationError as exc:
        errors = _form_errors(exc)
    return render_template("console/audit.html", form=form, errors=errors, items=items, total=total)


@blueprint.get("/tasks")
@requires(TASKS_READ)
def my_tasks():
    """Your open tasks and those of your roles, and the investigation actions assigned to you, earliest due first."""
    return render_template("console/tasks.html", items=tasks.mine(g.session, current_principal()))
