"""Check an audit event's inclusion proof and its checkpoint's signature, with no database and nothing of Concord:
the standard library and `cryptography` only.

    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:5000/api/v1/audit/events/<id>/proof > proof.json
    .venv/bin/concord audit public-key --tenant northshire > northshire-audit.pem   # or the force's published key
    python scripts/verify_audit_proof.py proof.json northshire-audit.pem

It checks that the leaf hashes to `leaf_hash` (SHA-256 of 0x00 || leaf), that the audit path leads from it to the
checkpoint's root (RFC 9162 2.1.3.2, nodes SHA-256 of 0x01 || left || right), and that the checkpoint is signed by
the key given (Ed25519 over the lines the API's CheckpointSchema describes). With --checkpoint FILE it checks a
checkpoint JSON alone (e.g. a copy from the force's object storage). Exit 0 when everything holds, 1 otherwise.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(index: int, size: int, leaf_hash: bytes, path: list[bytes]) -> bytes | None:
    """The root the audit path leads to (RFC 9162 2.1.3.2), or None if the path cannot belong to such a tree."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def signed_text(checkpoint: dict) -> bytes:
    lines = ("concord-audit-checkpoint/v1", f"tenant {checkpoint['tenant_id']}", f"size {checkpoint['tree_size']}",
             f"root {checkpoint['root_hash']}", f"time {checkpoint['sealed_at']}")
    return "".join(line + "\n" for line in lines).encode()


def check_checkpoint(checkpoint: dict, key: Ed25519PublicKey) -> list[str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    problems = []
    if checkpoint["key_id"] != hashlib.sha256(raw).hexdigest()[:16]:
        problems.append(f"the checkpoint names key {checkpoint['key_id']}, not this one")
    try:
        key.verify(base64.b64decode(checkpoint["signature"]), signed_text(checkpoint))
    except InvalidSignature:
        problems.append(f"the signature of checkpoint {checkpoint['tree_size']} does not verify with this key")
    return problems


def check_proof(body: dict, key: Ed25519PublicKey) -> list[str]:
    checkpoint = body["checkpoint"]
    problems = check_checkpoint(checkpoint, key)
    leaf_hash = hashlib.sha256(b"\x00" + body["leaf"].encode()).digest()
    if base64.b64encode(leaf_hash).decode() != body["leaf_hash"]:
        problems.append("the leaf does not hash to leaf_hash")
    path = [base64.b64decode(p) for p in body["proof"]]
    root = root_from_path(body["tree_index"], checkpoint["tree_size"], leaf_hash, path)
    if root is None or base64.b64encode(root).decode() != checkpoint["root_hash"]:
        problems.append(f"the proof does not lead from leaf {body['tree_index']} to the checkpoint's root")
    leaf = json.loads(body["leaf"])
    if leaf.get("id") != body["event"]["id"]:
        problems.append("the leaf is not the event's")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", type=Path, help="The proof (GET /api/v1/audit/events/{id}/proof), or a checkpoint")
    parser.add_argument("public_key", type=Path, help="The force's public checkpoint key, PEM")
    parser.add_argument("--checkpoint", action="store_true", help="The JSON is a checkpoint alone")
    args = parser.parse_args(argv)
    key = serialization.load_pem_public_key(args.public_key.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        print("error: the key is not an Ed25519 public key", file=sys.stderr)
        return 2
    body = json.loads(args.json.read_text())
    problems = check_checkpoint(body, key) if args.checkpoint else check_proof(body, key)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if problems:
        return 1
    checkpoint = body if args.checkpoint else body["checkpoint"]
    what = "checkpoint" if args.checkpoint else f"event {body['event']['id']} is leaf {body['tree_index']} of"
    print(f"OK: {what} the tree of size {checkpoint['tree_size']} with root {checkpoint['root_hash']}, "
          f"signed {checkpoint['sealed_at']} by key {checkpoint['key_id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
