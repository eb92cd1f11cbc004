"""Fetch the console's front-end assets, version-pinned and checked, into app/console/static/ (the output is
committed, so `make run` needs only Python; run this again only to change a version).

htmx is published on npm and in no Python package: `npm pack` (the ordinary npm client, so the registry is
whatever npm is configured with) fetches the pinned version's tarball, and the file taken from it must have the
SHA-256 pinned here, or nothing is written.

    python scripts/fetch_assets.py          # fetch, check, write
    python scripts/fetch_assets.py --check  # only check that the committed files match their pins
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "app" / "console" / "static"
# (npm package, version, file inside the tarball, name under static/, SHA-256 of that file)
ASSETS = [
    ("htmx.org", "2.0.4", "package/dist/htmx.min.js", "htmx.min.js",
     "e209dda5c8235479f3166defc7750e1dbcd5a5c1808b7792fc2e6733768fb447"),
]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(package: str, version: str, member: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(["npm", "pack", f"{package}@{version}", "--silent"], cwd=tmp, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(Path(tmp) / out) as tar:
            extracted = tar.extractfile(member)
            if extracted is None:
                raise SystemExit(f"{package}@{version} has no {member}")
            return extracted.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the committed files")
    args = parser.parse_args()
    failed = False
    for package, version, member, name, digest in ASSETS:
        target = STATIC / name
        if args.check:
            ok = target.exists() and sha256(target.read_bytes()) == digest
            print(f"{name}: {'ok' if ok else 'DIFFERS from its pin'}")
            failed |= not ok
            continue
        data = fetch(package, version, member)
        if sha256(data) != digest:
            print(f"{package}@{version} {member}: SHA-256 {sha256(data)} is not the pinned {digest}", file=sys.stderr)
            return 1
        target.write_bytes(data)
        print(f"{name}: {package}@{version}, {len(data)} bytes, SHA-256 checked")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
