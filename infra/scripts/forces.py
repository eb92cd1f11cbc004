"""The forces of a tenants/ directory for Terraform's `external` data source: {"slug": "pooled" | "dedicated"}.

It reads the very files Concord reads (each tenants/<slug>.toml's `slug` and `deployment`, both required, as the app
requires them), so the infrastructure declares a database and storage for exactly the forces the app serves. Standard
library only: it runs wherever Terraform runs. Usage: python3 forces.py TENANTS_DIR (or {"tenants_dir": ...} on
stdin, as the external data source sends its query).
"""
from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path


def forces(directory: Path) -> dict[str, str]:
    """Each force's slug and deployment, from its file; a file's name must be its slug."""
    found = {}
    for path in sorted(directory.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        slug, deployment = data.get("slug"), data.get("deployment")
        if slug != path.stem:
            raise SystemExit(f"{path}: slug must match the file name ({path.stem!r}), not {slug!r}")
        if deployment not in ("pooled", "dedicated"):
            raise SystemExit(f"{path}: deployment must be pooled or dedicated, not {deployment!r}")
        found[slug] = deployment
    if not found:
        raise SystemExit(f"{directory}: no tenants/<slug>.toml here")
    return found


def main() -> None:
    if len(sys.argv) > 1:
        directory = sys.argv[1]
    else:
        directory = json.load(sys.stdin)["tenants_dir"]
    json.dump(forces(Path(directory)), sys.stdout)


if __name__ == "__main__":
    main()
