"""Tenant configuration: one TOML file per force in tenants/, collaborations in tenants/collaborations/.

Files are validated with marshmallow; an invalid file fails with the file, the field and the reason,
and nothing is applied.
"""
from __future__ import annotations

import tomllib
import uuid
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from app.auth.permissions import ROLES
from app.config import valid_rate

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
    review_months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=120))


class CellSchema(StrictSchema):
    code = fields.String(required=True,
                         validate=validate.Regexp(r"^[A-Z0-9-]{1,10}$", error="1-10 capitals, digits, -"))
    capacity = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10))


class CustodySuiteSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2,6}$", error="2-6 capital letters"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    cells = fields.List(fields.Nested(CellSchema), required=True, validate=validate.Length(min=1, max=200))

    @validates("cells")
    def _unique_cells(self, value: list[dict[str, Any]], **_: Any) -> None:
        codes = [c["code"] for c in value]
        if len(set(codes)) != len(codes):
            raise ValidationError("a cell code is listed twice")


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


class TenantSchema(StrictSchema):
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    force_code = fields.String(required=True,
                               validate=validate.Regexp(r"^[0-9A-Z]{2,4}$", error="2-4 digits or capitals"))
    deployment = fields.String(required=True, validate=validate.OneOf(("pooled", "dedicated")))
    time_zone = fields.String(load_default="Europe/London")
    modules = fields.List(fields.String(validate=validate.OneOf(MODULES)), load_default=list(MODULES))
    identity = fields.Nested(IdentitySchema, required=True)
    # Room for the force settings later modules add; each module validates its own section.
    custody_suites = fields.List(fields.Nested(CustodySuiteSchema), load_default=list)
    custody = fields.Nested(CustodySettingsSchema, load_default=lambda: CustodySettingsSchema().load({}))
    retention = fields.Dict(load_default=dict)
    warning_markers = fields.List(fields.Nested(WarningMarkerTypeSchema),
                                  load_default=lambda: [dict(m) for m in NATIONAL_WARNING_MARKERS])
    reference_lists = fields.Dict(load_default=dict)
    crime_reference_format = fields.String(
        load_default="{force_code}/{serial:06d}/{yy}",
        metadata={"description": "How crime reference numbers look: {force_code}, {serial}, {yy}, {yyyy}"})
    storage = fields.Nested(StorageSchema, load_default=lambda: {"backend": "filesystem", "region": "eu-west-2"})
    rate_limits = fields.Nested(RateLimitsSchema, load_default=lambda: dict(NATIONAL_RATE_LIMITS))

    @validates("warning_markers")
    def _unique_markers(self, value: list[dict[str, Any]], **_: Any) -> None:
        codes = [m["code"] for m in value]
        if len(set(codes)) != len(codes):
            raise ValidationError("a code is listed twice")

    @validates("crime_reference_format")
    def _crn_format(self, value: str, **_: Any) -> None:
        if "{serial" not in value:
            raise ValidationError("must contain {serial} (e.g. {force_code}/{serial:06d}/{yy})")
        try:
            value.format(force_code="91", serial=1, yy="26", yyyy="2026")
        except (KeyError, ValueError, IndexError) as exc:
            raise ValidationError(f"is not a valid format: {exc}") from None

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

    In production every issuer must be https:// (tokens and keys must not travel in the clear)."""
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
    _check_across_files(tenants, collaborations, problems)
    if problems:
        raise ConfigFileError(problems)
    return PlatformConfig(
        tenants={slug: Tenant.from_settings(s) for slug, s in tenants.items()},
        collaborations={slug: Collaboration.from_settings(s) for slug, s in collaborations.items()},
    )


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
            elif tenants[member]["deployment"] != "pooled":
                problems.append(f"{collab['_file']}: members: {member!r} is dedicated; collaborations pool forces")
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
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_errors(value, name))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix or "(file)", " ".join(messages))]
    if isinstance(messages, list):
        return [pair for m in messages for pair in flatten_errors(m, prefix)]
    return [(prefix or "(file)", str(messages))]
