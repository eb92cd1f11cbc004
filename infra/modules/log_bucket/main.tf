# The bucket the load balancer and the other buckets write their access logs to: the bucket module as every bucket
# is, with what only this one needs. Neither ALB access logs nor S3 server access logs can be written under SSE-KMS,
# so it is SSE-S3 (it holds no force's data), logs nowhere (it is the log bucket), and lets AWS's log delivery in.

data "aws_elb_service_account" "this" {}
data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "delivery" {
  statement {
    sid       = "AlbAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["arn:aws:s3:::${var.name}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.this.arn]
    }
  }
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["arn:aws:s3:::${var.name}/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

module "bucket" {
  #checkov:skip=CKV_AWS_145:ALB access logs and S3 server access logs are only delivered to SSE-S3 buckets
  #checkov:skip=CKV_AWS_18:this is the access-log bucket; logging it to itself would loop
  source                       = "../bucket"
  name                         = var.name
  kms_key_arn                  = null
  access_log_bucket            = null
  infrequent_access_after_days = null # access logs are small objects: STANDARD_IA would bill each as 128 KB
  expire_after_days            = var.retention_days
  noncurrent_version_days      = 30
  policy_documents             = [data.aws_iam_policy_document.delivery.json]
}

# Where this bucket's resources stood before it became the bucket module (nothing is destroyed and made again).
moved {
  from = aws_s3_bucket.this
  to   = module.bucket.aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_public_access_block.this
  to   = module.bucket.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_ownership_controls.this
  to   = module.bucket.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_versioning.this
  to   = module.bucket.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.this
  to   = module.bucket.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.this
  to   = module.bucket.aws_s3_bucket_lifecycle_configuration.this
}

moved {
  from = aws_s3_bucket_policy.this
  to   = module.bucket.aws_s3_bucket_policy.this
}
