"""infra/ (the reference deployment on AWS): every .tf parses, checkov finds no failed check (each skip justified in
place), `terraform fmt` has nothing to change, and the Terraform declares its forces from the app's own tenant files."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest

from app.tenancy import config as tenancy_config

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
TF_FILES = sorted(INFRA.rglob("*.tf"))
CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"
SKIP = re.compile(r"#checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def _parsed(relative: str) -> dict:
    with (INFRA / relative).open(encoding="utf-8") as handle:
        return hcl2.load(handle)


def _named(block: dict) -> dict:
    """A parsed block's labelled children by label (python-hcl2 keeps labels' quotes)."""
    return {name.strip('"'): body for name, body in block.items()}


def _blocks(parsed: dict, kind: str, type_: str) -> dict:
    """The resources (or data sources) of one type in a parsed file, by name."""
    return {name: body for block in parsed.get(kind, []) for name, body in _named(_named(block).get(type_, {})).items()}


def _forces_script():
    spec = importlib.util.spec_from_file_location("infra_forces", INFRA / "scripts" / "forces.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_infra_has_the_modules_and_the_example():
    for module in ("network", "database", "force", "bucket", "log_bucket", "service", "observability"):
        for part in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (INFRA / "modules" / module / part).is_file(), f"infra/modules/{module}/{part}"
    assert (INFRA / "examples" / "collaboration" / "main.tf").is_file()


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_tf_file_parses(path):
    with path.open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle)
    assert parsed, f"{path}: nothing declared"


def test_the_forces_terraform_declares_are_the_apps_own():
    """infra/scripts/forces.py reads tenants/ as the app does: the same slugs, each pooled or dedicated alike."""
    app_view = {t.slug: t.deployment for t in tenancy_config.load(ROOT / "tenants").tenants.values()}
    assert _forces_script().forces(ROOT / "tenants") == app_view
    assert sorted(d for d in app_view.values()) == ["dedicated", "dedicated", "pooled", "pooled", "pooled"]


def test_the_forces_script_speaks_terraforms_external_protocol(tmp_path):
    (tmp_path / "eastshire.toml").write_text('slug = "eastshire"\ndeployment = "dedicated"\n', encoding="utf-8")
    done = subprocess.run(["python3", str(INFRA / "scripts" / "forces.py")], input=json.dumps(
        {"tenants_dir": str(tmp_path)}), capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {"eastshire": "dedicated"}
    (tmp_path / "eastshire.toml").write_text('slug = "westshire"\ndeployment = "dedicated"\n', encoding="utf-8")
    refused = subprocess.run(["python3", str(INFRA / "scripts" / "forces.py"), str(tmp_path)],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "must match the file name" in refused.stderr


def test_the_example_declares_storage_and_a_database_per_force_from_the_tenant_files():
    main = _parsed("examples/collaboration/main.tf")
    modules = {name: body for block in main["module"] for name, body in _named(block).items()}
    assert "local.forces" in modules["force"]["for_each"]
    assert "local.dedicated" in modules["dedicated_database"]["for_each"]
    external = _blocks(main, "data", "external")["forces"]
    assert "forces.py" in str(external["program"]) and "var.tenants_dir" in str(external["query"])


def test_the_service_has_waf_rate_limit_autoscaling_and_a_release_task():
    service = _parsed("modules/service/main.tf")
    acl = _blocks(service, "resource", "aws_wafv2_web_acl")["this"]
    assert "rate_based_statement" in json.dumps(acl)
    policies = _blocks(service, "resource", "aws_appautoscaling_policy")
    metrics = json.dumps(policies)
    assert "ECSServiceAverageCPUUtilization" in metrics and "ALBRequestCountPerTarget" in metrics
    release = _blocks(service, "resource", "aws_ecs_task_definition")["release"]
    assert "concord db upgrade && concord tenants apply" in json.dumps(release)
    # The tasks' storage rights are exactly the forces' own policies, one per force served.
    assert "var.force_policies" in json.dumps(_blocks(service, "resource", "aws_iam_role_policy")["force"])


def test_the_database_is_multi_az_encrypted_backed_up_and_protected():
    cluster = _blocks(_parsed("modules/database/main.tf"), "resource", "aws_rds_cluster")["this"]
    assert cluster["storage_encrypted"] is True and cluster["deletion_protection"] is True
    assert "var.backup_retention_days" in str(cluster["backup_retention_period"])
    variables = {name: body for block in _parsed("modules/database/variables.tf")["variable"]
                 for name, body in _named(block).items()}
    assert variables["instance_count"]["default"] >= 2 and variables["backup_retention_days"]["default"] >= 7


def test_every_checkov_skip_gives_its_reason():
    for path in TF_FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for check, reason in SKIP.findall(line):
                assert re.fullmatch(r"CKV2?_AWS_\d+", check), f"{path}:{number}: {check}"
                assert len(reason.strip()) >= 20, f"{path}:{number}: skip of {check} without a reason"


def test_checkov_finds_no_failed_check():
    if not CHECKOV.exists():
        pytest.skip("checkov is not installed: `make tools` builds .venv-tools (make test and .ci/run do)")
    done = subprocess.run([str(CHECKOV), "--directory", str(INFRA), "--framework", "terraform", "--output", "json",
                           "--quiet", "--compact", "--skip-download", "--download-external-modules", "false"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.stdout.strip(), done.stderr[-2000:]
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
              for report in reports for c in report.get("results", {}).get("failed_checks", [])]
    assert not failed, "checkov failed:\n" + "\n".join(sorted(set(failed)))
    passed = sum(report.get("summary", {}).get("passed", 0) for report in reports)
    assert passed > 100, f"checkov passed only {passed} checks: did it scan infra/?"


def test_terraform_fmt_has_nothing_to_change():
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH (it is not on PyPI or in Debian; the machine image ships it)")
    done = subprocess.run([terraform, "fmt", "-check", "-recursive", "-diff", str(INFRA)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:]
