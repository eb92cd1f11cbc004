# Three pooled forces plus two dedicated forces, as the demo tenants/ are: northshire,
# southshire and westshire share the pooled database and buckets (a prefix each, under each force's own key);
# lakeshire and moorshire each have their own database cluster and buckets. The list of forces is NOT written here: it is read from the
# same tenants/*.toml the image carries (var.tenants_dir), each file's `deployment` deciding pooled or dedicated.

# {"<slug>": "pooled" | "dedicated"} from the tenant files themselves (infra/scripts/forces.py, tomllib).
data "external" "forces" {
  program = ["python3", "${path.module}/../../scripts/forces.py"]
  query   = { tenants_dir = var.tenants_dir }
}

locals {
  name      = "concord-${var.environment}"
  forces    = data.external.forces.result
  pooled    = [for slug, deployment in local.forces : slug if deployment == "pooled"]
  dedicated = [for slug, deployment in local.forces : slug if deployment == "dedicated"]
  zones     = var.availability_zones

  pooled_documents_bucket = "${local.name}-pooled-documents"
  pooled_audit_bucket     = "${local.name}-pooled-audit"
  pooled_exports_bucket   = "${local.name}-pooled-exports"
}

module "network" {
  source             = "../../modules/network"
  name               = local.name
  availability_zones = local.zones
}

# The platform's own key: the pooled database, its secrets, the pooled buckets' default.
resource "aws_kms_key" "platform" {
  description         = "${local.name}: the pooled database and buckets"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersAndDelegatesToIam"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

data "aws_caller_identity" "current" {}

module "access_logs" {
  source = "../../modules/log_bucket"
  name   = "${local.name}-access-logs"
}

module "force" {
  source                  = "../../modules/force"
  for_each                = local.forces
  slug                    = each.key
  deployment              = each.value
  environment             = var.environment
  pooled_documents_bucket = local.pooled_documents_bucket
  pooled_audit_bucket     = local.pooled_audit_bucket
  pooled_exports_bucket   = local.pooled_exports_bucket
  access_log_bucket       = module.access_logs.id
}

# The pooled forces' shared buckets: under each force's prefix, only that force's key may encrypt.
module "pooled_documents" {
  source            = "../../modules/bucket"
  name              = local.pooled_documents_bucket
  kms_key_arn       = aws_kms_key.platform.arn
  prefix_keys       = { for slug in local.pooled : slug => module.force[slug].kms_key_arn }
  access_log_bucket = module.access_logs.id
}

module "pooled_audit" {
  source            = "../../modules/bucket"
  name              = local.pooled_audit_bucket
  kms_key_arn       = aws_kms_key.platform.arn
  object_lock_days  = var.audit_retention_days
  prefix_keys       = { for slug in local.pooled : slug => module.force[slug].kms_key_arn }
  access_log_bucket = module.access_logs.id
}

# The pooled forces' exports (`concord tenants export SLUG --to s3://<it>/SLUG/...`): each under its force's key,
# kept export_retention_days as a dedicated force's own exports bucket is (modules/force).
module "pooled_exports" {
  source                       = "../../modules/bucket"
  name                         = local.pooled_exports_bucket
  kms_key_arn                  = aws_kms_key.platform.arn
  prefix_keys                  = { for slug in local.pooled : slug => module.force[slug].kms_key_arn }
  infrequent_access_after_days = null
  expire_after_days            = var.export_retention_days
  noncurrent_version_days      = 7
  access_log_bucket            = module.access_logs.id
}

module "pool_database" {
  source                    = "../../modules/database"
  name                      = "${local.name}-pool"
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  availability_zones        = local.zones
  client_security_group_ids = [module.service.task_security_group_id]
  kms_key_arn               = aws_kms_key.platform.arn
  rotation_lambda_arn       = var.rotation_lambda_arn
}

# One database (its own cluster, under the force's own key) per dedicated force in tenants/.
module "dedicated_database" {
  source                    = "../../modules/database"
  for_each                  = toset(local.dedicated)
  name                      = "${local.name}-${each.key}"
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  availability_zones        = local.zones
  client_security_group_ids = [module.service.task_security_group_id]
  kms_key_arn               = module.force[each.key].kms_key_arn
  instance_class            = var.dedicated_instance_class
  rotation_lambda_arn       = var.rotation_lambda_arn
}

locals {
  databases = merge(
    { pool = module.pool_database },
    { for slug, db in module.dedicated_database : slug => db },
  )
  database_inputs = {
    for name, db in local.databases : name => {
      endpoint           = db.endpoint
      port               = db.port
      database_name      = db.database_name
      owner_role         = "concord_owner"
      runtime_role       = db.runtime_role
      owner_secret_arn   = db.owner_secret_arn
      runtime_secret_arn = db.runtime_secret_arn
    }
  }
}

module "service" {
  source              = "../../modules/service"
  name                = local.name
  image               = var.image
  domain_name         = var.domain_name
  certificate_arn     = var.certificate_arn
  vpc_id              = module.network.vpc_id
  vpc_cidr_block      = module.network.cidr_block
  public_subnet_ids   = module.network.public_subnet_ids
  private_subnet_ids  = module.network.private_subnet_ids
  access_log_bucket   = module.access_logs.id
  pool_database       = local.database_inputs["pool"]
  dedicated_databases = { for slug in local.dedicated : slug => local.database_inputs[slug] }
  secret_kms_key_arns = concat([aws_kms_key.platform.arn], [for slug in local.dedicated : module.force[slug].kms_key_arn])
  force_policies      = { for slug, force in module.force : slug => force.task_policy_json }
  # The operator's exports and imports of each force's archive run as the release task.
  force_export_policies   = { for slug, force in module.force : slug => force.export_policy_json }
  app_secrets_kms_key_arn = aws_kms_key.platform.arn
}

module "observability" {
  source                  = "../../modules/observability"
  name                    = local.name
  region                  = var.region
  alb_arn_suffix          = module.service.alb_arn_suffix
  target_group_arn_suffix = module.service.target_group_arn_suffix
  database_clusters       = { for name, db in local.databases : name => db.cluster_id }
  forces                  = keys(local.forces)
  log_group_name          = module.service.log_group_name
  alarm_emails            = var.alarm_emails
}
