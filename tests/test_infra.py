"""infra/ (the reference deployment on AWS): every .tf parses, checkov finds no failed check (each skip justified in
place), `terraform fmt` has nothing to change, the Terraform declares its forces from the app's own tenant files,
every secret the app reads in production is given to its tasks, every bucket is encrypted, versioned and closed to
the public, exactly one audit sealer runs, and the alarms watch what the app reports under the names it uses."""
from __future__ import annotations

import importlib.util
import inspect
import json
import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest

from app import cli as concord_cli
from app import config as app_config
from app import metrics as app_metrics
from app.audit import seal as audit_seal
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


def _locals(parsed: dict) -> dict:
    """Every `locals` block of a parsed file, merged."""
    return {name: value for block in parsed.get("locals", []) for name, value in block.items()
            if not name.startswith("__")}


def _modules(parsed: dict) -> dict:
    return {name: body for block in parsed.get("module", []) for name, body in _named(block).items()}


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
    scaling = _locals(service)["scaling"]
    assert "local.scaling" in _blocks(service, "resource", "aws_appautoscaling_policy")["this"]["for_each"]
    assert {s["metric"].strip('"') for s in scaling.values()} == {"ECSServiceAverageCPUUtilization",
                                                                  "ALBRequestCountPerTarget"}
    tasks = _locals(service)["tasks"]
    assert "local.tasks" in _blocks(service, "resource", "aws_ecs_task_definition")["this"]["for_each"]
    assert "concord db upgrade && concord tenants apply" in json.dumps(tasks["release"]["command"])
    # The tasks' storage rights are exactly the forces' own policies, one per force served; exports only for the
    # operator's (release) task.
    policies = _blocks(service, "resource", "aws_iam_role_policy")
    assert "var.force_policies" in policies["force"]["for_each"]
    assert "var.force_export_policies" in policies["release_export"]["for_each"]
    assert "aws_iam_role.release" in policies["release_export"]["role"]


def test_the_waf_refuses_metrics_from_the_internet():
    acl = _blocks(_parsed("modules/service/main.tf"), "resource", "aws_wafv2_web_acl")["this"]
    rule = next(r for r in acl["rule"] if r["name"] == '"no-metrics-from-internet"')
    assert "block" in rule["action"][0]
    match = rule["statement"][0]["byte_match_statement"][0]
    route = next(r.rule for r in _app_rules() if r.endpoint == "metrics.serve")
    assert match["search_string"].strip('"') == route and match["positional_constraint"] == '"STARTS_WITH"'


def _app_rules():
    from flask import Flask

    flask_app = Flask("rules")
    flask_app.register_blueprint(app_metrics.blueprint)
    return list(flask_app.url_map.iter_rules())


def _secret_names(expression: str) -> set[str]:
    """The environment variable names an ECS `secrets` list expression gives (a per-force one as NAME_<SLUG>)."""
    return {name + ("<SLUG>" if slug else "") for name, slug in re.findall(
        r'name = "([A-Z_]+?)(\$\{upper\(slug\)\})?"', expression)}


def test_every_secret_the_app_reads_in_production_is_given_to_its_tasks():
    """The secrets Settings reads (app/config.py: passwords, tokens, secrets, keys) come from Secrets Manager in every
    Concord container; the owner's passwords only in the release task's."""
    read = set(re.findall(r'"(CONCORD_[A-Z_]*(?:PASSWORD|TOKEN|SECRET|KEY)_?)"', inspect.getsource(app_config)))
    read = {name[:-1] + "_<SLUG>" if name.endswith("_") else name for name in read}
    # The console's session key: the name agreed for the console's production setting (infra/README.md, "Secrets").
    read.add("CONCORD_CONSOLE_SECRET")
    assert {"CONCORD_DATABASE_PASSWORD", "CONCORD_OWNER_PASSWORD", "CONCORD_METRICS_TOKEN"} <= read
    service = _parsed("modules/service/main.tf")
    local = _locals(service)
    given = {
        "runtime_secrets": _secret_names(local["runtime_secrets"]),
        "owner_secrets": _secret_names(local["owner_secrets"]),
        "app_secrets": {name.strip('"') for name in local["app_secret_names"].values()},
    }
    owner = {name for name in read if "OWNER" in name}
    assert given["owner_secrets"] == owner
    assert read - owner == given["runtime_secrets"] | given["app_secrets"]
    for task, parts in {"web": ("runtime_secrets", "app_secrets"), "sealer": ("runtime_secrets", "app_secrets"),
                        "release": ("runtime_secrets", "owner_secrets", "app_secrets")}.items():
        expression = local["tasks"][task]["secrets"]
        assert {p for p in given if f"local.{p}" in expression} == set(parts), task
    # Each app secret is a Secrets Manager secret under a customer key, made here; the execution role reads them all.
    secret = _blocks(service, "resource", "aws_secretsmanager_secret")["app"]
    assert "local.app_secret_names" in secret["for_each"] and "var.app_secrets_kms_key_arn" in secret["kms_key_id"]
    assert "local.app_secrets" in local["secret_arns"] and "local.owner_secrets" in local["secret_arns"]
    execution = _blocks(service, "data", "aws_iam_policy_document")["execution_secrets"]
    assert "local.secret_arns" in json.dumps(execution)
    # The collector scrapes /metrics with the token the app checks.
    assert "CONCORD_METRICS_TOKEN" in local["collector"]["secrets"]
    assert "$${env:CONCORD_METRICS_TOKEN}" in local["collector_config"]


def test_each_force_has_its_audit_signing_key_and_its_tasks_may_read_it():
    force = _parsed("modules/force/main.tf")
    secret = _blocks(force, "resource", "aws_secretsmanager_secret")["audit_signing_key"]
    assert "aws_kms_key.this.arn" in secret["kms_key_id"] and "var.slug" in secret["name"]
    # The private key is never in Terraform's state: infra makes the secret, the operator's onboarding its value.
    assert not _blocks(force, "resource", "aws_secretsmanager_secret_version").get("audit_signing_key")
    assert not _blocks(force, "resource", "tls_private_key")
    policies = _blocks(force, "data", "aws_iam_policy_document")
    task, operator = json.dumps(policies["task"]), json.dumps(policies["export"])
    assert "secretsmanager:GetSecretValue" in task and "aws_secretsmanager_secret.audit_signing_key.arn" in task
    assert "secretsmanager:PutSecretValue" not in task  # the web tasks cannot change the key
    assert "secretsmanager:PutSecretValue" in operator and "aws_secretsmanager_secret.audit_signing_key.arn" in operator
    # The tenant file's [audit] names it: the example prints it with the force's [storage].
    storage = json.dumps(_named(next(b for b in _parsed("examples/collaboration/outputs.tf")["output"]
                                     if "storage" in _named(b)))["storage"])
    assert "secretsmanager" in storage and "force.audit_signing_secret" in storage


def test_exactly_one_sealer_runs():
    """The audit sealer is a thread of `concord serve`'s supervisor; the web tasks run the image's gunicorn (no
    sealer), the one sealer service runs `concord serve`, and is stopped before its replacement starts."""
    assert "_sealer(" in inspect.getsource(concord_cli.serve.callback)
    assert "gunicorn" in (ROOT / "Dockerfile").read_text(encoding="utf-8").rsplit("CMD", 1)[1]
    service = _parsed("modules/service/main.tf")
    tasks = _locals(service)["tasks"]
    assert tasks["web"]["command"] is None
    assert [c.strip('"') for c in tasks["sealer"]["command"]] == ["concord", "serve"]
    assert "concord serve" not in json.dumps(tasks["release"])
    sealer = _blocks(service, "resource", "aws_ecs_service")["sealer"]
    assert sealer["desired_count"] == 1 and sealer["deployment_maximum_percent"] == 100
    assert sealer["deployment_minimum_healthy_percent"] == 0 and "load_balancer" not in sealer
    assert 'aws_ecs_task_definition.this["sealer"]' in sealer["task_definition"]


def test_the_database_is_multi_az_encrypted_backed_up_and_protected():
    cluster = _blocks(_parsed("modules/database/main.tf"), "resource", "aws_rds_cluster")["this"]
    assert cluster["storage_encrypted"] is True and cluster["deletion_protection"] is True
    assert "var.backup_retention_days" in str(cluster["backup_retention_period"])
    variables = {name: body for block in _parsed("modules/database/variables.tf")["variable"]
                 for name, body in _named(block).items()}
    assert variables["instance_count"]["default"] >= 2 and variables["backup_retention_days"]["default"] >= 7


def test_every_bucket_is_the_bucket_module_encrypted_versioned_and_closed_to_the_public():
    """One place makes buckets (modules/bucket); every call gives it a customer KMS key but the access-log bucket's."""
    makers = [path for path in TF_FILES if _blocks(_parsed(str(path.relative_to(INFRA))), "resource", "aws_s3_bucket")]
    assert makers == [INFRA / "modules" / "bucket" / "main.tf"]
    bucket = _parsed("modules/bucket/main.tf")
    block = _blocks(bucket, "resource", "aws_s3_bucket_public_access_block")["this"]
    assert all(block[flag] is True for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                                "restrict_public_buckets"))
    versioning = _blocks(bucket, "resource", "aws_s3_bucket_versioning")["this"]
    assert versioning["versioning_configuration"][0]["status"] == '"Enabled"'
    sse = json.dumps(_blocks(bucket, "resource", "aws_s3_bucket_server_side_encryption_configuration")["this"])
    assert 'var.kms_key_arn == null ? \\"AES256\\" : \\"aws:kms\\"' in sse
    assert "aws_s3_bucket_lifecycle_configuration" in json.dumps(bucket["resource"])
    policy = json.dumps(_blocks(bucket, "data", "aws_iam_policy_document")["this"])
    assert "aws:SecureTransport" in policy and "var.require_bucket_key" in policy and "var.prefix_keys" in policy
    assert "s3:x-amz-server-side-encryption-aws-kms-key-id" in policy
    calls = {}
    for path in TF_FILES:
        for name, body in _modules(_parsed(str(path.relative_to(INFRA)))).items():
            if body["source"].strip('"').endswith("/bucket"):
                calls[f"{path.parent.name}.{name}"] = body
    assert {"force.documents", "force.audit", "force.exports", "collaboration.pooled_documents",
            "collaboration.pooled_audit", "collaboration.pooled_exports", "log_bucket.bucket"} == set(calls)
    for name, body in calls.items():
        if name == "log_bucket.bucket":
            assert body["kms_key_arn"] is None  # SSE-S3: ALB and S3 access log delivery cannot write under KMS
        else:
            assert "kms_key" in body["kms_key_arn"], name
            assert body.get("access_log_bucket"), name


def test_exports_are_under_the_forces_own_keys_and_expire():
    exports = _modules(_parsed("modules/force/main.tf"))["exports"]
    assert exports["kms_key_arn"] == "${aws_kms_key.this.arn}" and exports["require_bucket_key"] is True
    assert "var.export_retention_days" in exports["expire_after_days"]
    pooled = _modules(_parsed("examples/collaboration/main.tf"))["pooled_exports"]
    assert "module.force[slug].kms_key_arn" in pooled["prefix_keys"] and "local.pooled" in pooled["prefix_keys"]
    assert "var.export_retention_days" in pooled["expire_after_days"]
    policy = json.dumps(_blocks(_parsed("modules/force/main.tf"), "data", "aws_iam_policy_document")["export"])
    assert "local.exports_bucket" in policy and "local.prefix" in policy


def test_the_alarms_watch_what_the_app_reports():
    observability = _parsed("modules/observability/main.tf")
    alarms = _locals(observability)["alarms"]
    assert "local.alarms" in _blocks(observability, "resource", "aws_cloudwatch_metric_alarm")["this"]["for_each"]
    for watched in ('"5xx-rate"', "HTTPCode_Target_5XX_Count", '"p99-latency"', "TargetResponseTime",
                    "local.database_alarms", '"audit-seal-errors"', "AuditSealErrors", "-audit-seal-lag"):
        assert watched in alarms, watched
    database = _locals(observability)["database_alarms"]
    assert {a["metric"].strip('"') for a in database.values()} == {"DatabaseConnections", "AuroraReplicaLagMaximum"}
    # The sealer's lag under the app's own metric name, per force, alarmed when missing too (no sealer reporting).
    lag_name = app_metrics.AUDIT_SEALER_LAG._name
    assert f'name = "{lag_name}"' in alarms and "dimensions = {force = slug}" in alarms
    assert 'missing = "breaching"' in alarms.split("-audit-seal-lag")[1]
    assert lag_name in _locals(_parsed("modules/service/main.tf"))["collector_config"]
    # The sealer's failures, counted from its log lines: its logger is its module's name.
    assert "logging.getLogger(__name__)" in inspect.getsource(audit_seal)
    counted = _blocks(observability, "resource", "aws_cloudwatch_log_metric_filter")["audit_seal_errors"]
    assert audit_seal.__name__ in counted["pattern"] and "error" in counted["pattern"]
    example = _modules(_parsed("examples/collaboration/main.tf"))["observability"]
    assert "local.forces" in example["forces"] and "module.service.log_group_name" in example["log_group_name"]


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
