"""Each force's Ed25519 key that signs its audit checkpoints, and what exactly is signed.

Where the key lives is the force's `[audit]` config: `signing_key = "file"` (development: a PEM under
var/keys/<slug>/audit-ed25519.pem, created on first need, readable by its owner only) or "secretsmanager"
(production: the PEM held as an AWS Secrets Manager secret, `concord/<slug>/audit-ed25519` unless `secret_id`
names another; the secret and its first value are made on first need, and a secret made without a value by infra
gets its first value then). Either way the key is the force's own: no other force's checkpoint can be
signed with it, and an auditor checks signatures with the public key alone (`concord audit public-key`).

Rotating the key: put the current public key in the force's `[audit] retired_public_keys`, deploy that, then give
the store a new key. Checkpoints signed before verify with the retired key (each names its key), new ones with the
new key; a checkpoint signed by a key the file does not name does not verify.
"""
from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.tenancy.config import Tenant, ed25519_public_key

SIGNED_HEADER = "concord-audit-checkpoint/v1"


def timestamp(moment: datetime) -> str:
    """A moment as the trail writes it: UTC, microseconds, a Z (one spelling for one instant)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement by a force: its tree had `tree_size` leaves with root `root_hash` at `sealed_at`."""

    tenant_id: str
    tree_size: int
    root_hash: bytes
    sealed_at: datetime
    key_id: str
    signature: bytes

    def signed_text(self) -> bytes:
        """The bytes the signature covers (scripts/verify_audit_proof.py builds the same)."""
        return signed_text(self.tenant_id, self.tree_size, self.root_hash, self.sealed_at)

    def as_json(self) -> dict[str, Any]:
        """The checkpoint as the API and the copies in object storage give it."""
        return {"tenant_id": self.tenant_id, "tree_size": self.tree_size,
                "root_hash": base64.b64encode(self.root_hash).decode(), "sealed_at": timestamp(self.sealed_at),
                "key_id": self.key_id, "signature": base64.b64encode(self.signature).decode()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Checkpoint":
        return cls(str(data["tenant_id"]), int(data["tree_size"]), base64.b64decode(data["root_hash"]),
                   datetime.fromisoformat(data["sealed_at"].replace("Z", "+00:00")), str(data["key_id"]),
                   base64.b64decode(data["signature"]))


def signed_text(tenant_id: str, tree_size: int, root_hash: bytes, sealed_at: datetime) -> bytes:
    """Header, force, size, base64 root and time, one per line, each line ending in a newline."""
    lines = (SIGNED_HEADER, f"tenant {tenant_id}", f"size {tree_size}",
             f"root {base64.b64encode(root_hash).decode()}", f"time {timestamp(sealed_at)}")
    return "".join(line + "\n" for line in lines).encode()


def key_id(public: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def verify_signature(checkpoint: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> bool:
    """Whether the checkpoint was signed by the key it names, one of these (by key id)."""
    public = keys.get(checkpoint.key_id)
    if public is None or checkpoint.key_id != key_id(public):
        return False
    try:
        public.verify(checkpoint.signature, checkpoint.signed_text())
    except InvalidSignature:
        return False
    return True


class KeyStore(Protocol):
    """Where one force's private key is kept: `load` gives it, or None when there is none yet."""

    def load(self) -> bytes | None: ...
    def store(self, pem: bytes) -> None: ...


class FileKeyStore:
    """A PEM file, created with mode 0600 (development)."""

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> bytes | None:
        return self.path.read_bytes() if self.path.exists() else None

    def store(self, pem: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        try:
            os.link(tmp, self.path)  # fails if another process created the key first: theirs is kept
        except FileExistsError:
            pass
        finally:
            tmp.unlink()


class SecretsManagerKeyStore:
    """An AWS Secrets Manager secret holding the PEM (production).

    The secret may exist without a value: infra makes it (under the force's own key) so that the private key is
    never in Terraform's state, and the operator's `concord tenants onboard` puts the first key in it. The first key
    is always written under one version token, so when two processes make it at once the first is kept and the
    other's is refused; a key the operator rotates later is a new version of their own."""

    FIRST_VERSION = "concord-audit-signing-key-first-version"

    def __init__(self, client: Any, secret_id: str):
        self.client, self.secret_id = client, secret_id

    def load(self) -> bytes | None:
        try:  # a secret with no value yet answers ResourceNotFound too
            return self.client.get_secret_value(SecretId=self.secret_id)["SecretString"].encode()
        except self.client.exceptions.ResourceNotFoundException:
            return None

    def store(self, pem: bytes) -> None:
        try:
            self.client.create_secret(Name=self.secret_id, SecretString=pem.decode(),
                                      ClientRequestToken=self.FIRST_VERSION,
                                      Description="Concord: the force's audit checkpoint signing key (Ed25519)")
        except self.client.exceptions.ResourceExistsException:
            try:  # the secret is there (made by infra, or by another process): its first value, unless it has one
                self.client.put_secret_value(SecretId=self.secret_id, SecretString=pem.decode(),
                                             ClientRequestToken=self.FIRST_VERSION)
            except self.client.exceptions.ResourceExistsException:
                pass  # another process put the first key: theirs is kept


def key_store(tenant: Tenant, var_dir: Path) -> KeyStore:
    """The force's key store, as its `[audit]` config names it."""
    config = tenant.settings.get("audit") or {}
    if config.get("signing_key", "file") == "file":
        return FileKeyStore(var_dir / "keys" / tenant.slug / "audit-ed25519.pem")
    import boto3

    client = boto3.client("secretsmanager", endpoint_url=config.get("endpoint_url"),
                          region_name=config.get("region", "eu-west-2"))
    return SecretsManagerKeyStore(client, config.get("secret_id") or f"concord/{tenant.slug}/audit-ed25519")


def _private(store: KeyStore) -> Ed25519PrivateKey:
    pem = store.load()
    if pem is None:
        store.store(Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        pem = store.load()
        assert pem is not None, "the key just stored cannot be read back"
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the audit signing key is not an Ed25519 key")
    return key


def ensure_signing_key(*, tenant: Tenant, var_dir: Path) -> bytes:
    """Create the force's signing key if it has none; return its public key (PEM)."""
    return public_pem(_private(key_store(tenant, var_dir)).public_key())


def public_key(*, tenant: Tenant, var_dir: Path) -> Ed25519PublicKey:
    """The force's public checkpoint key (the key is created if it has none)."""
    return _private(key_store(tenant, var_dir)).public_key()


def verifying_keys(*, tenant: Tenant, var_dir: Path) -> dict[str, Ed25519PublicKey]:
    """The keys the force's checkpoints may be signed by, by key id: its current key and the ones it has retired
    (its `[audit] retired_public_keys`, reviewed like the rest of its file), so a rotated key's checkpoints still
    verify and no key the file does not name is believed."""
    retired = [ed25519_public_key(text) for text in (tenant.settings.get("audit") or {}).get("retired_public_keys", ())]
    return {key_id(public): public for public in (*retired, public_key(tenant=tenant, var_dir=var_dir))}


def sign(*, tenant: Tenant, var_dir: Path, tree_size: int, root_hash: bytes, sealed_at: datetime) -> Checkpoint:
    """A checkpoint of the force's tree, signed with its key."""
    private = _private(key_store(tenant, var_dir))
    signature = private.sign(signed_text(str(tenant.id), tree_size, root_hash, sealed_at))
    return Checkpoint(str(tenant.id), tree_size, root_hash, sealed_at, key_id(private.public_key()), signature)
