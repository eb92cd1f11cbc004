# One force: its own KMS key (rotated yearly) for its documents, audit checkpoints, exports, audit signing key and
# (dedicated) database; a dedicated force's own buckets, or a pooled force's prefix in the shared buckets; its audit
# checkpoint signing key in Secrets Manager; and the IAM policy documents a task that serves this force attaches
# (task_policy_json) and the operator's task that exports it (export_policy_json), naming only this force's key,
# buckets, prefix and secret.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  dedicated = var.deployment == "dedicated"
  prefix    = local.dedicated ? "" : "${var.slug}/"
}

resource "aws_kms_key" "this" {
  description             = "Concord ${var.environment}: ${var.slug}'s data"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Key administration by the account; use only through IAM policies that name this key (below).
        Sid       = "AccountAdministersAndDelegatesToIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "RdsAndSecretsManagerUse"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService" = [
              "rds.${data.aws_region.current.name}.amazonaws.com",
              "secretsmanager.${data.aws_region.current.name}.amazonaws.com",
              "s3.${data.aws_region.current.name}.amazonaws.com",
            ]
          }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "this" {
  name          = "alias/concord-${var.environment}-${var.slug}"
  target_key_id = aws_kms_key.this.key_id
}

module "documents" {
  source            = "../bucket"
  count             = local.dedicated ? 1 : 0
  name              = "concord-${var.environment}-${var.slug}-documents"
  kms_key_arn       = aws_kms_key.this.arn
  access_log_bucket = var.access_log_bucket
}

module "audit" {
  source            = "../bucket"
  count             = local.dedicated ? 1 : 0
  name              = "concord-${var.environment}-${var.slug}-audit"
  kms_key_arn       = aws_kms_key.this.arn
  object_lock_days  = var.audit_retention_days
  access_log_bucket = var.access_log_bucket
}

# `concord tenants export --to s3://<exports bucket>/<prefix>...`: the archive of everything the force holds, under
# its own key only (a put naming no key would land under aws/s3, which outlives this key's scheduled deletion at
# offboarding). Kept export_retention_days, then gone: an archive is for handing over, not for keeping.
module "exports" {
  source                       = "../bucket"
  count                        = local.dedicated ? 1 : 0
  name                         = "concord-${var.environment}-${var.slug}-exports"
  kms_key_arn                  = aws_kms_key.this.arn
  require_bucket_key           = true
  infrequent_access_after_days = null
  expire_after_days            = var.export_retention_days
  noncurrent_version_days      = 7
  access_log_bucket            = var.access_log_bucket
}

locals {
  documents_bucket = local.dedicated ? module.documents[0].id : var.pooled_documents_bucket
  audit_bucket     = local.dedicated ? module.audit[0].id : var.pooled_audit_bucket
  exports_bucket   = local.dedicated ? module.exports[0].id : var.pooled_exports_bucket
}

# The secret that holds the key signing the force's audit checkpoints (app/audit/signing.py, `[audit] signing_key =
# "secretsmanager"` with `secret_id` this secret's name), under the force's own key. It is made here without a value:
# the operator's `concord tenants onboard` puts the first key (an Ed25519 key, PKCS#8 PEM) in it, so the private key
# is never in Terraform's state, and the web tasks need no right to create or change secrets.
resource "aws_secretsmanager_secret" "audit_signing_key" {
  #checkov:skip=CKV2_AWS_57:a signing key is not rotated by a function: each checkpoint records its key_id, and a new key is a new secret value put by the operator (docs/operations.md)
  name                    = "concord-${var.environment}/${var.slug}/audit-ed25519"
  description             = "Concord ${var.environment}: ${var.slug}'s audit checkpoint signing key (Ed25519, PEM)"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 30
}

# Earlier versions made the key here (tls_private_key) and put it as the secret's value: forget both without
# destroying the value (the force's key stays current). The key is still in the state versions written before
# this; rotate it (docs/operations.md, "Rotate keys and secrets") if those may have been read. The tls provider
# stays only for this.
removed {
  from = aws_secretsmanager_secret_version.audit_signing_key
  lifecycle {
    destroy = false
  }
}

removed {
  from = tls_private_key.audit
  lifecycle {
    destroy = false
  }
}

# What a task serving this force may do: its objects, under its prefix, with its key; nothing of another force's.
data "aws_iam_policy_document" "task" {
  statement {
    sid       = "Documents"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"]
    resources = ["arn:aws:s3:::${local.documents_bucket}/${local.prefix}*"]
  }
  statement {
    sid       = "AuditCheckpointsWriteOnce"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetObjectRetention"]
    resources = ["arn:aws:s3:::${local.audit_bucket}/${local.prefix}*"]
  }
  statement {
    sid       = "ListOwnPrefix"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${local.documents_bucket}", "arn:aws:s3:::${local.audit_bucket}"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.prefix}*"]
    }
  }
  statement {
    sid       = "AuditSigningKey"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [aws_secretsmanager_secret.audit_signing_key.arn]
  }
  statement {
    sid       = "OwnKeyThroughS3AndSecretsManager"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.this.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com", "secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}

# What the operator's task (the release task definition, `concord tenants onboard` / `export` / `import-archive`) adds
# to the above (whose statement on the force's key covers the exports and the secret too): the force's exports, under
# its prefix, and the first value of its audit signing key. The web tasks do not get it.
data "aws_iam_policy_document" "export" {
  statement {
    sid       = "AuditSigningKeyFirstValue"
    actions   = ["secretsmanager:PutSecretValue"]
    resources = [aws_secretsmanager_secret.audit_signing_key.arn]
  }
  statement {
    sid       = "Exports"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["arn:aws:s3:::${local.exports_bucket}/${local.prefix}*"]
  }
  statement {
    sid       = "ListOwnExports"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${local.exports_bucket}"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.prefix}*"]
    }
  }
}
