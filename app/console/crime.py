"""The console's crime pages: record a crime, link its people in their roles (found by search as you type, or
recorded there and then), and take it along the status flow to an outcome. Thin views on the same services and
schemas as /api/v1/investigations, on the console's blueprint (app/__init__.py imports this module so that its
pages join it before the blueprint is registered).
"""
from __future__ import annotations

import uuid
from typing import Any

from flask import g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from app.auth.guard import current_principal, requires
from app.auth.permissions import INVESTIGATIONS_READ, INVESTIGATIONS_WRITE, PEOPLE_READ, PEOPLE_WRITE
from app.console.views import SEXES, _form_errors, _needs_purpose, _search, _search_form, blueprint, module
from app.errors import ApiError
from app.investigations import service as investigations
from app.investigations.outcomes import OUTCOMES
from app.investigations.people import ROLES
from app.investigations.schemas import (
    AllocateSchema,
    FinaliseSchema,
    InvestigationDetailSchema,
    InvestigationEntryCreateSchema,
    InvestigationPersonSchema,
    InvestigationReasonSchema,
    InvestigationRecordSchema,
    InvestigationRoleEndSchema,
)
from app.people import service as people
from app.people.schemas import PersonCreateSchema, SearchResultSchema
from app.sharing import visibility

CRIME_LABELS = {"primary_classification": "Home Office code", "occurred_at": "When it happened",
                "summary": "What happened"}
# Each step of the status flow: the schema its form is read by, and the form's fields beyond the version.
STEPS = {"qa": (InvestigationReasonSchema, ("reason",)), "allocate": (AllocateSchema, ("officer_in_charge",)),
         "acknowledge": (InvestigationReasonSchema, ()), "finalise": (FinaliseSchema, ("outcome_type", "reason"))}
# The fields of the forms that link a person as the page names them (the page has several forms: the error summary
# links to the field of the form that was sent). A person found is named by the search that found them; a new
# person's fields are those PersonCreateSchema requires, sent as new-surname and so on.
LINK_FIELDS = {"role": "link-role", "person_id": "link-name", "name": "link-name", "date_of_birth": "link-dob"}
NEW_PERSON = ("surname", "forenames", "date_of_birth", "sex")
NEW_FIELDS = {"role": "new-role", **{name: f"new-{name}" for name in NEW_PERSON}}
STEP_LABELS = {"reason": "Reason", "officer_in_charge": "Officer in charge", "outcome_type": "Outcome",
               "version": "Version", "kind": "Kind of entry", "text": "Entry", "person_id": "Suspect",
               "link-role": "Role", "link-name": "Person", "link-dob": "Date of birth", "new-role": "Role",
               "new-surname": "Surname", "new-forenames": "Forenames", "new-date_of_birth": "Date of birth",
               "new-sex": "Sex"}
ROLE = InvestigationPersonSchema(only=("role",))


def _refused(exc: ValidationError | ApiError, fields_: tuple[str, ...] = ()) -> tuple[dict[str, str], int]:
    """The service's refusal as the form shows it, with its status: the input's reasons by field, a rule's refusal
    (an outcome the facts do not support, a newer version, not the officer in charge) as its plain message, by the
    field it names when the form has it. A record not found is raised to its own page."""
    if isinstance(exc, ValidationError) or exc.status == 422:
        return _form_errors(exc), 422
    if exc.status not in (403, 409, 412):
        raise exc
    named = next((name for name in exc.errors or {} if name in fields_), "")
    return {named: exc.message}, exc.status


def _as_sent(errors: dict[str, str], ids: dict[str, str]) -> dict[str, str]:
    """Errors keyed by the ids of the sent form's fields (a message naming no field stays unkeyed)."""
    return {ids.get(name, name) if name else "": message for name, message in errors.items()}


@blueprint.route("/investigations/new", methods=["GET", "POST"])
@requires(INVESTIGATIONS_WRITE)
@module("investigations")
def investigation_new():
    """Record a crime: only what the API requires (its Home Office code, when, what happened)."""
    form = {name: request.form.get(name, "").strip() for name in CRIME_LABELS}
    if request.method == "GET":
        return render_template("console/investigation_new.html", form=form, errors={}, labels=CRIME_LABELS)
    try:
        data = InvestigationRecordSchema().load({k: v for k, v in form.items() if v})
        recorded = investigations.record(g.session, current_principal(), data)
    except (ValidationError, ApiError) as exc:
        errors, status = _refused(exc, tuple(CRIME_LABELS))
        return render_template("console/investigation_new.html", form=form, errors=errors, labels=CRIME_LABELS), status
    return redirect(url_for("console.investigation", investigation_id=recorded.id), 303)


def _candidates() -> dict[str, Any]:
    """The people search's results for the person to link (the search page's own service and reasons)."""
    form = _search_form()
    found = _search(form) if any(form.values()) else {"results": None, "errors": {}, "total": 0}
    return {"find": form, **found, "errors": _as_sent(found["errors"], LINK_FIELDS)}


@blueprint.get("/investigations/<uuid:investigation_id>")
@requires(INVESTIGATIONS_READ)
@module("investigations")
def investigation(investigation_id: uuid.UUID, errors: dict[str, str] | None = None, status: int = 200,
                  sent: str = "", duplicates: list[dict[str, Any]] | None = None):
    """An investigation: its state, people and log, the forms to link people, and the form for the next step the
    flow allows. `sent` names the linking form whose refusal is shown ("link" or "new"), `duplicates` the people a
    new one probably is."""
    asked = _needs_purpose()
    if asked is not None:
        return asked
    principal = current_principal()
    read = investigations.get(g.session, principal, investigation_id, sessions=g.sessions)
    detail = InvestigationDetailSchema().dump(read)
    state = detail["investigation"]["status"]
    step = next((action for action, (before, _) in investigations.FLOW.items() if before == state), None)
    linked = detail.get("people") or []
    finding = principal.can(PEOPLE_READ) and "people" in principal.tenant.modules
    found = _candidates() if finding else {"find": {}, "results": None, "errors": {}}
    labels = STEP_LABELS | {end_field(p["person_id"], p["role"]): f"Reason {p['surname']}, {p['forenames']} is "
                            f"removed as {p['role'].replace('_', ' ')}" for p in linked}
    return render_template("console/investigation.html", detail=detail, step=step, outcomes=OUTCOMES,
                           form=request.form, errors=errors or {}, labels=labels, role_names=ROLES, sexes=SEXES,
                           end_field=end_field,
                           suspects=[p for p in linked if p["role"] == "suspect"], linked=linked, sent=sent,
                           duplicates=duplicates, found=found), status


@blueprint.get("/investigations/candidates")
@requires(INVESTIGATIONS_WRITE)
@requires(PEOPLE_READ)
@module("investigations")
@module("people")
def investigation_candidates():
    """The people found as you type on an investigation's page, each with its button to link them (htmx swaps
    this part in)."""
    asked = _needs_purpose()
    if asked is not None:
        return asked
    return render_template("console/_crime_candidates.html", found=_candidates(), labels=STEP_LABELS)


@blueprint.post("/investigations/<uuid:investigation_id>/people")
@requires(INVESTIGATIONS_WRITE)
@module("investigations")
def investigation_link(investigation_id: uuid.UUID):
    """Link a person of the force to the crime in a role: suspect, victim, witness or reporting person."""
    form = {n: v for n in ("person_id", "role") if (v := request.form.get(n, "").strip())}
    try:
        data = InvestigationPersonSchema().load(form)
        investigations.add_person(g.session, current_principal(), investigation_id=investigation_id, **data)
    except (ValidationError, ApiError) as exc:
        errors, status = _refused(exc, tuple(LINK_FIELDS))
        return investigation(investigation_id, errors=_as_sent(errors, LINK_FIELDS), status=status, sent="link")
    return redirect(url_for("console.investigation", investigation_id=investigation_id, _anchor="people"), 303)


def _new_person() -> tuple[str, dict[str, Any]]:
    """The role and the new person the form gives, read by the API's schemas, every field's reason at once."""
    messages: dict[str, Any] = {}
    loaded: list[dict[str, Any]] = []
    person = {n: v for n in NEW_PERSON if (v := request.form.get(NEW_FIELDS[n], "").strip())}
    for schema, values in ((ROLE, {"role": request.form.get("role", "")}), (PersonCreateSchema(), person)):
        try:
            loaded.append(schema.load(values))
        except ValidationError as exc:
            messages |= exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
    if messages:
        raise ValidationError(messages)
    return loaded[0]["role"], loaded[1]


@blueprint.post("/investigations/<uuid:investigation_id>/people/new")
@requires(INVESTIGATIONS_WRITE)
@requires(PEOPLE_WRITE)
@module("investigations")
@module("people")
def investigation_new_person(investigation_id: uuid.UUID):
    """Record someone new and link them in their role, in one use case (the two API calls it stands for); when
    they are probably recorded already, the candidates are shown to link instead."""
    principal = current_principal()
    try:
        role, data = _new_person()
        investigations.record_person(g.session, principal, investigation_id=investigation_id, person=data, role=role,
                                     confirm_new=request.form.get("confirm") == "1", sessions=g.sessions)
    except people.ProbableDuplicate as exc:
        visibility.record_disclosure(g.session, principal, exc.disclosed, via=request.endpoint or "")
        return investigation(investigation_id, status=409, sent="new",
                             duplicates=SearchResultSchema(many=True).dump(exc.candidates))
    except (ValidationError, ApiError) as exc:
        errors, status = _refused(exc, tuple(NEW_FIELDS))
        return investigation(investigation_id, errors=_as_sent(errors, NEW_FIELDS), status=status, sent="new")
    return redirect(url_for("console.investigation", investigation_id=investigation_id, _anchor="people"), 303)


def end_field(person_id: Any, role: str) -> str:
    """The id (after "field-") of the reason field of the form that removes this person from this role."""
    return f"end-{person_id}-{role}"


@blueprint.post("/investigations/<uuid:investigation_id>/people/<uuid:person_id>/end")
@requires(INVESTIGATIONS_WRITE)
@module("investigations")
def investigation_end_role(investigation_id: uuid.UUID, person_id: uuid.UUID):
    """Remove a person from the crime in one role, with the reason (eliminated, linked in error): the link is kept,
    ended, and the reason logged."""
    form = {n: v for n in ("role", "reason") if (v := request.form.get(n, "").strip())}
    try:
        data = InvestigationRoleEndSchema().load(form)
        investigations.end_role(g.session, current_principal(), investigation_id=investigation_id,
                                person_id=person_id, **data)
    except (ValidationError, ApiError) as exc:
        errors, status = _refused(exc, ("role", "reason"))
        # Every reason is shown at the reason field of the row the form was sent from.
        field = end_field(person_id, form.get("role", ""))
        return investigation(investigation_id, errors={field: "; ".join(errors.values())}, status=status)
    return redirect(url_for("console.investigation", investigation_id=investigation_id, _anchor="people"), 303)


def _version() -> int:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        raise ValidationError({"version": ["reload the page: the form did not say which version you read"]}) from None


@blueprint.post("/investigations/<uuid:investigation_id>/<any(qa, allocate, acknowledge, finalise):action>")
@requires(INVESTIGATIONS_WRITE)
@module("investigations")
def investigation_step(investigation_id: uuid.UUID, action: str):
    """QA, allocate, acknowledge or finalise, on the version the form was read at (a newer one is refused)."""
    schema, names = STEPS[action]
    try:
        data = schema().load({n: v for n in names if (v := request.form.get(n, "").strip())})
        investigations.move(g.session, current_principal(), investigation_id, action, _version(), data)
    except (ValidationError, ApiError) as exc:
        errors, status = _refused(exc, names)
        return investigation(investigation_id, errors=errors, status=status)
    return redirect(url_for("console.investigation", investigation_id=investigation_id), 303)


@blueprint.post("/investigations/<uuid:investigation_id>/entries")
@requires(INVESTIGATIONS_WRITE)
@module("investigations")
def investigation_entry(investigation_id: uuid.UUID):
    """A log entry, or the charge or summons of a suspect (what outcome 1 needs on record)."""
    form = {n: v for n in ("kind", "text", "person_id") if (v := request.form.get(n, "").strip())}
    try:
        investigations.add_entry(g.session, current_principal(), investigation_id,
                                 InvestigationEntryCreateSchema().load(form))
    except (ValidationError, ApiError) as exc:
        errors, status = _refused(exc, ("kind", "text", "person_id"))
        return investigation(investigation_id, errors=errors, status=status)
    return redirect(url_for("console.investigation", investigation_id=investigation_id), 303)
