# One force: its own KMS key (rotated yearly) for its documents, audit checkpoints and (dedicated) database; a
# dedicated force's own buckets, or a pooled force's prefix in the shared buckets; and the IAM policy document a
# task that serves this force attaches, naming only this force's key, buckets and prefix.

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

locals {
  documents_bucket = local.dedicated ? module.documents[0].id : var.pooled_documents_bucket
  audit_bucket     = local.dedicated ? module.audit[0].id : var.pooled_audit_bucket
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
    sid       = "OwnKeyThroughS3"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.this.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}
