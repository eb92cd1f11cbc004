"""Tenant configuration: one TOML file per force in tenants/, collaborations in tenants/collaborations/.

Files are validated with marshmallow; an invalid file fails with the file, the field and the reason,
and nothing is applied.
"""
from __future__ import annotations

import base64
import binascii
import logging
import re
import string
import tomllib
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    missing,
    post_load,
    validate,
    validates,
    validates_schema,
)

from app.auth.permissions import ROLES
from app.config import valid_rate
from app.schemas import Unique

log = logging.getLogger(__name__)

# Tenant ids are derived from the slug, so the pooled and dedicated databases agree without coordination.
TENANT_NAMESPACE = uuid.UUID("6f1c1c39-6a55-4d0b-9a8e-2f3b5e1d7c40")

MODULES = ("people", "intelligence", "investigations", "custody", "cases", "documents", "sharing")
SLUG = validate.Regexp(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$", error="must be lower-case letters, digits and hyphens")


class ConfigFileError(ValueError):
    """One or more config files are invalid; `problems` lists 'file: field: reason' lines."""

    def __init__(self, problems: list[str]):
        super().__init__("invalid tenant configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


class StrictSchema(Schema):
    """Unknown keys are refused: a typo in a config file must not pass silently."""

    class Meta:
        unknown = RAISE


def _count(low: int, high: int, **kwargs: Any) -> fields.Integer:
    """A whole number in [low, high]: strict, so 1.5, "6" and true are refused rather than coerced."""
    return fields.Integer(strict=True, validate=validate.Range(min=low, max=high), **kwargs)


class IdentitySchema(StrictSchema):
    issuer = fields.Url(required=True, require_tld=False, schemes={"http", "https"})
    audience = fields.String(required=True, validate=validate.Length(min=1))
    roles_claim = fields.String(load_default="roles")
    user_claim = fields.String(load_default="sub")
    role_map = fields.Dict(keys=fields.String(validate=validate.Length(min=1)), values=fields.String(), required=True)

    @validates("role_map")
    def _known_roles(self, value: dict[str, str], **_: Any) -> None:
        unknown = sorted({role for role in value.values() if role not in ROLES})
        if unknown:
            raise ValidationError(f"unknown Concord role(s): {', '.join(unknown)}")


class WarningMarkerTypeSchema(StrictSchema):
    """One entry of the force's warning-marker list."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2,8}$", error="2-8 capital letters"))
    label = fields.String(required=True, validate=validate.Length(min=1, max=100))
    review_months = _count(1, 120, load_default=12)


class CellSchema(StrictSchema):
    code = fields.String(required=True,
                         validate=validate.Regexp(r"^[A-Z0-9-]{1,10}$", error="1-10 capitals, digits, -"))
    capacity = _count(1, 10, load_default=1)


class CustodySuiteSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2,6}$", error="2-6 capital letters"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    cells = fields.List(fields.Nested(CellSchema), required=True,
                        validate=[validate.Length(min=1, max=200), Unique("code", "a cell code")])


# Visits by observation level (Code C Annex H; DOMAIN.md: level 1 at least hourly, 2 every 30 minutes for someone
# drunk or at risk, 3 and 4 constant) and the range a prescribed dose interval may take: national defaults a force
# may change in its [custody] section.
NATIONAL_VISIT_MINUTES: dict[str, int] = {"1": 60, "2": 30, "3": 0, "4": 0}
NATIONAL_DOSE_INTERVAL_HOURS: dict[str, float] = {"minimum": 0.25, "maximum": 72.0}


class DoseIntervalSchema(StrictSchema):
    minimum = fields.Float(load_default=NATIONAL_DOSE_INTERVAL_HOURS["minimum"],
                           validate=validate.Range(min=0.01, max=168))
    maximum = fields.Float(load_default=NATIONAL_DOSE_INTERVAL_HOURS["maximum"],
                           validate=validate.Range(min=0.01, max=168))


class CustodySettingsSchema(StrictSchema):
    """[custody]: visit minutes per observation level ("1".."4"; 0 = constant) and the dose interval range."""

    visit_minutes = fields.Dict(keys=fields.String(), values=fields.Integer(validate=validate.Range(min=0, max=60)),
                                load_default=lambda: dict(NATIONAL_VISIT_MINUTES))
    dose_interval_hours = fields.Nested(DoseIntervalSchema,
                                        load_default=lambda: dict(NATIONAL_DOSE_INTERVAL_HOURS))

    @validates_schema
    def _custody(self, data: dict[str, Any], **_: Any) -> None:
        validate_custody(data)


def validate_custody(data: dict[str, Any]) -> None:
    """Every level 1-4 has a visit interval, never longer than the national one (Code C 9.3: at least
    hourly), and the dose range is a range."""
    minutes = {**NATIONAL_VISIT_MINUTES, **data.get("visit_minutes", {})}
    unknown = sorted(set(minutes) - {"1", "2", "3", "4"})
    if unknown:
        raise ValidationError(f"observation levels are 1 to 4, not {', '.join(unknown)}", field_name="visit_minutes")
    for level, national in NATIONAL_VISIT_MINUTES.items():
        if national and minutes[level] > national:
            raise ValidationError(f"level {level}: at most {national} minutes between visits (Code C 9.3)",
                                  field_name="visit_minutes")
    data["visit_minutes"] = minutes
    doses = data.get("dose_interval_hours", {})
    if doses and doses["minimum"] > doses["maximum"]:
        raise ValidationError("minimum is above maximum", field_name="dose_interval_hours")


NATIONAL_WARNING_MARKERS = [
    {"code": code, "label": label, "review_months": 12}
    for code, label in (("VI", "Violent"), ("WE", "Weapons"), ("FI", "Firearms"), ("SH", "Self-harm"),
                        ("SU", "Suicidal"), ("MH", "Mental health"), ("DR", "Drugs"), ("ES", "Escaper"),
                        ("CO", "Contagious"), ("IM", "Impersonator"))
]


class StorageSchema(StrictSchema):
    """Where a force's documents live: the filesystem (default) or S3 with SSE-KMS under its key."""

    backend = fields.String(load_default="filesystem", validate=validate.OneOf(("filesystem", "s3")))
    bucket = fields.String(validate=validate.Length(min=3, max=63))
    prefix = fields.String(validate=validate.Length(max=200))
    kms_key_id = fields.String(validate=validate.Length(min=1, max=2048))
    region = fields.String(load_default="eu-west-2")
    endpoint_url = fields.Url(require_tld=False)

    @validates_schema
    def _s3_needs(self, data: dict[str, Any], **_: Any) -> None:
        if data["backend"] == "s3":
            for field in ("bucket", "kms_key_id"):
                if not data.get(field):
                    raise ValidationError("is required for the s3 backend", field_name=field)


def ed25519_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key as `concord audit public-key` prints it (PEM), or the one base64 line inside the PEM;
    ValueError if it is not one."""
    text = text.strip()
    try:
        key = (serialization.load_pem_public_key(text.encode()) if text.startswith("-----BEGIN")
               else serialization.load_der_public_key(base64.b64decode(text, validate=True)))
    except (ValueError, binascii.Error, UnsupportedAlgorithm):
        raise ValueError("is not a public key (the PEM `concord audit public-key` prints, or its base64 line)") \
            from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("is not an Ed25519 public key")
    return key


class AuditSchema(StrictSchema):
    """Where the force's audit checkpoint signing key lives (app/audit/signing.py): a file under var/ in
    development, an AWS Secrets Manager secret in production; and the public keys it has retired, whose
    checkpoints still verify."""

    signing_key = fields.String(load_default="file", validate=validate.OneOf(("file", "secretsmanager")))
    secret_id = fields.String(validate=validate.Length(min=1, max=512))
    region = fields.String(load_default="eu-west-2")
    endpoint_url = fields.Url(require_tld=False)
    retired_public_keys = fields.List(fields.String(), load_default=list)

    @validates("retired_public_keys")
    def _check_keys(self, keys: list[str], **_: Any) -> None:
        for index, text in enumerate(keys):
            try:
                ed25519_public_key(text)
            except ValueError as exc:
                raise ValidationError({index: [str(exc)]}) from None


# What one user and one whole force may ask of the API, unless the force's [rate_limits] says otherwise: ten
# requests a second for an officer's client is far above a person's pace, and a force's hundred a second leaves
# the others their share of a pooled deployment. Limit strings: "600/minute", or several: "20/second; 600/minute".
NATIONAL_RATE_LIMITS = {"per_user": "600/minute", "per_force": "6000/minute"}


def _rate_limit(value: str) -> None:
    if not valid_rate(value):
        raise ValidationError('must be a rate such as "600/minute" or "20/second; 600/minute"')


class RateLimitsSchema(StrictSchema):
    """Requests per user and per force (Retry-After answers beyond them); see NATIONAL_RATE_LIMITS."""

    per_user = fields.String(load_default=NATIONAL_RATE_LIMITS["per_user"], validate=_rate_limit)
    per_force = fields.String(load_default=NATIONAL_RATE_LIMITS["per_force"], validate=_rate_limit)


# The parts a crime reference format may use.
REFERENCE_PARTS = ("force_code", "serial", "yy", "yyyy")

# Case files (app/cases): the stages a file is checked for and the MG forms it holds. Here, below the cases module,
# because a force's `reference_lists.case_file_rules` name them and are checked when its file loads.
CASE_FILE_STAGES = ("charging_decision", "first_hearing")
CASE_FILE_FORMS = ("MG1", "MG2", "MG3", "MG3A", "MG4", "MG4A", "MG5", "MG6", "MG6A", "MG6B", "MG6C", "MG6D",
                   "MG6E", "MG7", "MG8", "MG9", "MG10", "MG11", "MG12")
PLEAS = ("GAP", "NGAP")  # anticipated guilty / not guilty plea


def _form_item(value: str) -> None:
    form, _, name = value.partition(".")
    if form not in CASE_FILE_FORMS or not re.fullmatch(r"[a-z][a-z0-9_]{0,62}(\.[a-z][a-z0-9_]{0,62})?", name):
        raise ValidationError(f"must be FORM.field or FORM.list.column (each row of the list has it) with FORM one "
                              f"of {', '.join(CASE_FILE_FORMS)} and names in lower case (e.g. MG5.summary)")


class CaseFileRuleSchema(StrictSchema):
    """What one stage of a case file needs (app/cases NATIONAL_RULES has the national list, same shape)."""

    item = fields.String(required=True, validate=_form_item)
    label = fields.String(required=True, validate=validate.Length(min=1, max=200))
    severity = fields.String(required=True, validate=validate.OneOf(("required", "advisory", "immaterial")))
    blocks = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    pleas = fields.List(fields.String(validate=validate.OneOf(PLEAS)),
                        validate=[validate.Length(min=1), Unique(what="a plea")])
    when = fields.String(validate=_form_item, metadata={"description": "FORM.field: the rule applies only where "
                                                                       "that field is not empty"})

    @validates_schema
    def _immaterial_never_blocks(self, data: dict[str, Any], **_: Any) -> None:
        if data["severity"] == "immaterial" and data["blocks"]:
            raise ValidationError("an immaterial item never blocks a stage (National File Standard)",
                                  field_name="blocks")


_RULES = fields.List(fields.Nested(CaseFileRuleSchema), validate=Unique("item", "an item"))
CaseFileRulesSchema = StrictSchema.from_dict({stage: _RULES for stage in CASE_FILE_STAGES}, name="CaseFileRules")
_CODES = fields.List(fields.String(validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$",
                                                            error="1-20 letters, digits, - or _")),
                     validate=Unique())


class CjsOffenceSchema(StrictSchema):
    """One offence of the CJS standard offence list: its code, the title a recorded charge begins with, and
    the charge wording MG4 prints."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}[0-9]{5}[A-Z]?$",
                                                                  error="a CJS offence code, e.g. TH68010"))
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    wording = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class CaseUrnSchema(StrictSchema):
    """The CPS unique reference number: force code, unit, serial and year (e.g. 01YE0123456)."""

    unit = fields.String(load_default="CJ", validate=validate.Regexp(r"^[A-Z0-9]{2}$",
                                                                     error="two capital letters or digits"))
    format = fields.String(load_default="{force_code}{unit}{serial:05d}{yy}",
                           validate=validate.Regexp(r"^(?=.*\{serial(:0?[1-9]d)?\})(?=.*\{yy(yy)?\})"
                                                    r"(\{(force_code|unit|serial(:0?[1-9]d)?|yy|yyyy)\}|[A-Z0-9/-])+$",
                                                    error="{force_code}, {unit}, {serial} (e.g. {serial:05d}) and "
                                                          "{yy} or {yyyy}, with capitals, digits, / or -"))


class ReferenceListsSchema(StrictSchema):
    """The force's own lists; a list left out keeps the national default (or, for codes, no restriction)."""

    case_file_rules = fields.Nested(CaseFileRulesSchema)  # per stage; a stage left out keeps the national rules
    code_c_review_days = _count(1, 730)  # how often a code C report's conditions are reviewed (default 90)
    intelligence_action_codes = _CODES
    intelligence_sanitisation_codes = _CODES
    cjs_offences = fields.List(fields.Nested(CjsOffenceSchema), validate=Unique("code", "a code"))


class RetentionGroupSchema(StrictSchema):
    """One MoPI/PIRM group: when its records are reviewed, and for group 1 the age its subject is kept to."""

    label = fields.String(validate=validate.Length(min=1, max=200))
    review_after_years = _count(1, 100)
    retain_until_age = _count(18, 125)


# MoPI (PIRM Code of Practice 2023) groups, as DOMAIN.md gives them; periods are configurable. Group 4's period is
# not given there: six years, as group 3, until a force sets its own.
NATIONAL_RETENTION = {
    "group_1": {"label": "Certain public protection matters", "review_after_years": 10, "retain_until_age": 100},
    "group_2": {"label": "Other sexual, violent or serious offences", "review_after_years": 10},
    "group_3": {"label": "All other offences", "review_after_years": 6},
    "group_4": {"label": "Undetected crime", "review_after_years": 6},
}


# Which facts put a record in which group (app/retention/policy.py applies them, first match from group 1 down;
# a record no rule places is group 3). DOMAIN.md names the groups but no offence codes, markers or outcomes: these
# are *configurable* defaults, not confirmed from a primary text. Offences are Home Office classes ("19", every
# 19/x) or codes ("4/1"): murder, attempted murder, manslaughter and rape put the record in group 1; wounding,
# other violence, sexual assault and robbery in group 2; outcomes 14 and 18 (no suspect identified) make a
# crime of group 3 undetected (group 4).
NATIONAL_RETENTION_RULES: dict[str, Any] = {
    "version": "national-pirm-2023",
    "group_1_offences": ["1", "2", "4/1", "19"],
    "group_2_offences": ["5", "8", "17", "34"],
    "group_1_markers": [],
    "group_2_markers": ["VI", "WE", "FI"],
    "undetected_outcomes": [14, 18],
}
_OFFENCES = fields.List(fields.String(validate=validate.Regexp(r"^\d{1,3}(/\d{1,2})?$",
                                                               error="a Home Office class or code, e.g. 19 or 4/1")),
                        validate=Unique(what="an offence"))
_MARKERS = fields.List(fields.String(validate=validate.Regexp(r"^[A-Z]{2,8}$", error="2-8 capital letters")),
                       validate=Unique(what="a marker"))


class RetentionSchema(StrictSchema):
    """The force's retention policy: its groups (a group, or a field of one, left out keeps the national default),
    the facts that place a record in each, and the policy's version (change it with the policy: every assessment
    and review records the version it applied)."""

    version = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                                                     error="1-64 letters, digits, '.', '_' or '-'"))
    group_1 = fields.Nested(RetentionGroupSchema)
    group_2 = fields.Nested(RetentionGroupSchema)
    group_3 = fields.Nested(RetentionGroupSchema)
    group_4 = fields.Nested(RetentionGroupSchema)
    group_1_offences = _OFFENCES
    group_2_offences = _OFFENCES
    group_1_markers = _MARKERS
    group_2_markers = _MARKERS
    undetected_outcomes = fields.List(_count(1, 22), validate=Unique(what="an outcome"))

    @post_load
    def _defaults(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        rules = {key: data.get(key, national) for key, national in NATIONAL_RETENTION_RULES.items()}
        groups = {group: {**national, **data.get(group, {})} for group, national in NATIONAL_RETENTION.items()}
        return {**rules, **groups}


class TenantSchema(StrictSchema):
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    force_code = fields.String(required=True,
                               validate=validate.Regexp(r"^[0-9A-Z]{2,4}$", error="2-4 digits or capitals"))
    deployment = fields.String(required=True, validate=validate.OneOf(("pooled", "dedicated")))
    time_zone = fields.String(load_default="Europe/London")
    modules = fields.List(fields.String(validate=validate.OneOf(MODULES)), load_default=list(MODULES),
                          validate=Unique(what="a module"))
    identity = fields.Nested(IdentitySchema, required=True)
    # Room for the force settings later modules add; each module validates its own section.
    custody_suites = fields.List(fields.Nested(CustodySuiteSchema), load_default=list,
                                 validate=Unique("code", "a suite code"))
    custody = fields.Nested(CustodySettingsSchema, load_default=lambda: CustodySettingsSchema().load({}))
    retention = fields.Nested(RetentionSchema, load_default=lambda: RetentionSchema().load({}))
    warning_markers = fields.List(fields.Nested(WarningMarkerTypeSchema), validate=Unique("code"),
                                  load_default=lambda: [dict(m) for m in NATIONAL_WARNING_MARKERS])
    reference_lists = fields.Nested(ReferenceListsSchema, load_default=dict)
    crime_reference_format = fields.String(
        load_default="{force_code}/{serial:06d}/{yy}",
        metadata={"description": "How crime reference numbers look: {force_code}, {serial}, {yy}, {yyyy}"})
    case_urn = fields.Nested(CaseUrnSchema, load_default=lambda: CaseUrnSchema().load({}))
    storage = fields.Nested(StorageSchema, load_default=lambda: {"backend": "filesystem", "region": "eu-west-2"})
    rate_limits = fields.Nested(RateLimitsSchema, load_default=lambda: dict(NATIONAL_RATE_LIMITS))
    audit = fields.Nested(AuditSchema, load_default=lambda: {"signing_key": "file", "region": "eu-west-2"})

    @validates("crime_reference_format")
    def _crn_format(self, value: str, **_: Any) -> None:
        try:
            self._crn_parts(value)
        except ValueError as exc:  # an unbalanced brace
            raise ValidationError(f"is not a valid format: {exc}") from None

    @staticmethod
    def _crn_parts(value: str) -> None:
        if "{serial" not in value:
            raise ValidationError("must contain {serial} (e.g. {force_code}/{serial:06d}/{yy})")
        if "{yy" not in value:  # {yy} or {yyyy}
            raise ValidationError("must contain {yy} or {yyyy}: serials restart each year, so without the year "
                                  "next year's references would repeat this year's")
        for _, name, spec, conversion in string.Formatter().parse(value):
            if name is None:
                continue
            if name not in REFERENCE_PARTS:
                raise ValidationError(f"{{{name}}} is not one of {{{'}, {'.join(REFERENCE_PARTS)}}}")
            if conversion or not re.fullmatch(r"(0?[1-9][0-9]?)?d?" if name == "serial" else "", spec or ""):
                raise ValidationError(f"{{{name}{'!' + conversion if conversion else ''}:{spec}}}: only {{serial}} "
                                      "takes a format, a width such as {serial:06d}")
        try:
            samples = {value.format(force_code="91", serial=serial, yy=f"{year % 100:02d}", yyyy=str(year))
                       for serial in (1, 2, 999_999_999) for year in (2026, 2027)}
        except (KeyError, ValueError, IndexError, AttributeError, TypeError) as exc:
            raise ValidationError(f"is not a valid format: {exc}") from None
        if len(samples) != 6:
            raise ValidationError("gives two records the same reference (it must show the whole serial and year)")
        if max(len(sample) for sample in samples) > 60:
            raise ValidationError("gives references longer than 60 characters")

    @validates_schema
    def _retention_markers_known(self, data: dict[str, Any], **_: Any) -> None:
        # Only the force's own choice is checked: the national default names national markers, and a marker
        # the force does not use simply never decides a group.
        known = {marker["code"] for marker in data.get("warning_markers", NATIONAL_WARNING_MARKERS)}
        for key in ("group_1_markers", "group_2_markers"):
            chosen = data.get("retention", {}).get(key, NATIONAL_RETENTION_RULES[key])
            unknown = sorted(set(chosen) - known) if chosen != NATIONAL_RETENTION_RULES[key] else []
            if unknown:
                raise ValidationError({"retention": {key: [f"not in this force's warning markers: "
                                                           f"{', '.join(unknown)}"]}})

    @validates("time_zone")
    def _zone(self, value: str, **_: Any) -> None:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError("not a known IANA time zone") from exc


class AdministratorSchema(StrictSchema):
    tenant = fields.String(required=True, validate=SLUG)
    user = fields.String(required=True, validate=validate.Length(min=1))


class CollaborationSchema(StrictSchema):
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    members = fields.List(fields.String(validate=SLUG), required=True, validate=validate.Length(min=1))
    administrators = fields.List(fields.Nested(AdministratorSchema), load_default=list)

    @validates_schema
    def _no_repeats(self, data: dict[str, Any], **_: Any) -> None:
        if len(set(data["members"])) != len(data["members"]):
            raise ValidationError("a force is listed twice", field_name="members")


@dataclass(frozen=True)
class Identity:
    issuer: str
    audience: str
    roles_claim: str
    user_claim: str
    role_map: dict[str, str]


@dataclass(frozen=True)
class Tenant:
    """One force, as its validated config describes it."""

    id: uuid.UUID
    slug: str
    name: str
    force_code: str
    deployment: str
    time_zone: str
    modules: tuple[str, ...]
    identity: Identity
    settings: dict[str, Any] = field(compare=False, hash=False)

    @property
    def dedicated(self) -> bool:
        return self.deployment == "dedicated"

    def today(self) -> date:
        """The force's date today, in its time zone."""
        return datetime.now(zoneinfo.ZoneInfo(self.time_zone)).date()

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> "Tenant":
        """Build from the validated (and stored) settings dictionary."""
        return cls(
            id=tenant_id(settings["slug"]),
            slug=settings["slug"],
            name=settings["name"],
            force_code=settings["force_code"],
            deployment=settings["deployment"],
            time_zone=settings["time_zone"],
            modules=tuple(settings["modules"]),
            identity=Identity(**settings["identity"]),
            settings=settings,
        )


@dataclass(frozen=True)
class Collaboration:
    slug: str
    name: str
    members: tuple[str, ...]
    administrators: tuple[tuple[str, str], ...]
    settings: dict[str, Any] = field(compare=False, hash=False)

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> "Collaboration":
        return cls(
            slug=settings["slug"],
            name=settings["name"],
            members=tuple(settings["members"]),
            administrators=tuple((a["tenant"], a["user"]) for a in settings["administrators"]),
            settings=settings,
        )


@dataclass(frozen=True)
class PlatformConfig:
    """Every force and collaboration found in the config directory."""

    tenants: dict[str, Tenant]
    collaborations: dict[str, Collaboration]

    def dedicated(self) -> list[Tenant]:
        return [t for t in self.tenants.values() if t.dedicated]


def tenant_id(slug: str) -> uuid.UUID:
    """The stable id of a force, derived from its slug."""
    return uuid.uuid5(TENANT_NAMESPACE, slug)


def load(directory: Path, *, production: bool = False) -> PlatformConfig:
    """Read and validate every file; raise ConfigFileError listing every problem found.

    In production every issuer must be https:// (tokens and keys must not travel in the clear), and every audit
    signing key is a Secrets Manager secret (a key file would be a different key in every task)."""
    if not directory.is_dir():
        # Applying an absent directory would deactivate every force: refuse instead.
        raise ConfigFileError([f"{directory}: no tenant configuration here (set CONCORD_TENANTS_DIR, or mount "
                               "the forces' files there)"])
    problems: list[str] = []
    tenants = {
        t["slug"]: t for t in _load_files(sorted(directory.glob("*.toml")), TenantSchema(), problems)
    }
    collaborations = {
        c["slug"]: c
        for c in _load_files(sorted((directory / "collaborations").glob("*.toml")), CollaborationSchema(), problems)
    }
    if production:
        problems.extend(f"{t['_file']}: identity.issuer: must be https:// in production"
                        for t in tenants.values() if not t["identity"]["issuer"].startswith("https://"))
        problems.extend(f"{t['_file']}: audit.signing_key: must be \"secretsmanager\" in production"
                        for t in tenants.values() if t["audit"]["signing_key"] != "secretsmanager")
    _check_across_files(tenants, collaborations, problems)
    if problems:
        raise ConfigFileError(problems)
    return PlatformConfig(
        tenants={slug: Tenant.from_settings(s) for slug, s in tenants.items()},
        collaborations={slug: Collaboration.from_settings(s) for slug, s in collaborations.items()},
    )


def revalidated(settings: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Stored settings checked again, since an older Concord may have stored what no longer validates: an invalid
    section that has a national default falls back to it, so a stale rule cannot fail a request later. Returns the
    settings to serve and the problems found (if a required section is invalid, the settings as stored)."""
    schema = TenantSchema()
    errors = schema.validate(settings)
    problems = [f"{name}: {reason}" for name, reason in flatten_errors(errors)]
    fixed = dict(settings)
    for key in errors:
        field_ = schema.fields.get(key)
        if field_ is None:
            fixed.pop(key, None)  # a key no Concord section reads any more
        elif field_.load_default is missing:
            return settings, problems
        else:
            fixed.pop(key)  # loading fills in the default
    try:
        return schema.load(fixed), problems
    except ValidationError as exc:
        return settings, problems + [f"{name}: {reason}" for name, reason in flatten_errors(exc.messages)]


def _load_files(paths: list[Path], schema: Schema, problems: list[str]) -> list[dict[str, Any]]:
    loaded = []
    for path in paths:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: not valid TOML: {exc}")
            continue
        try:
            data = schema.load(raw)
        except ValidationError as exc:
            problems.extend(f"{path}: {name}: {reason}" for name, reason in flatten_errors(exc.messages))
            continue
        except Exception as exc:  # a validator's own bug must still name the file, not end in a traceback
            log.exception("validating %s failed", path)
            problems.append(f"{path}: (file): could not be validated ({type(exc).__name__}: {exc})")
            continue
        data["_file"] = str(path)
        if data["slug"] != path.stem:
            problems.append(f"{path}: slug: must match the file name ({path.stem!r}), not {data['slug']!r}")
            continue
        loaded.append(data)
    return loaded


def _check_across_files(
    tenants: dict[str, dict[str, Any]], collaborations: dict[str, dict[str, Any]], problems: list[str]
) -> None:
    issuers: dict[str, str] = {}
    for slug, tenant in tenants.items():
        issuer = tenant["identity"]["issuer"]
        if issuer in issuers:
            problems.append(f"{tenant['_file']}: identity.issuer: already used by {issuers[issuer]!r}")
        issuers[issuer] = slug
    for collab in collaborations.values():
        for member in collab["members"]:
            if member not in tenants:
                problems.append(f"{collab['_file']}: members: no force {member!r} in the tenant config")
        for admin in collab["administrators"]:
            if admin["tenant"] not in collab["members"]:
                problems.append(f"{collab['_file']}: administrators: {admin['tenant']!r} is not a member")
    for data in (*tenants.values(), *collaborations.values()):
        data.pop("_file")


def flatten_errors(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Marshmallow's nested error dict as ('identity.audience', 'reason') pairs."""
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            if key == "_schema":  # the section as a whole (e.g. a number where a table belongs)
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_errors(value, name))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix or "(file)", " ".join(messages))]
    if isinstance(messages, list):
        return [pair for m in messages for pair in flatten_errors(m, prefix)]
    return [(prefix or "(file)", str(messages))]
