output "kms_key_arn" {
  description = "The force's key: the kms_key_id of its [storage] in tenants/<slug>.toml."
  value       = aws_kms_key.this.arn
}

output "documents_bucket" {
  description = "The bucket of its [storage]."
  value       = local.documents_bucket
}

output "prefix" {
  description = "The prefix of its [storage] (empty for a dedicated force's own bucket)."
  value       = local.prefix
}

output "audit_bucket" {
  description = "Where its audit checkpoints are written once (Object Lock)."
  value       = local.audit_bucket
}

output "exports_bucket" {
  description = "Where `concord tenants export` writes its archives: s3://<this>/<prefix><name>/."
  value       = local.exports_bucket
}

output "audit_signing_secret" {
  description = "The secret_id of its [audit] (signing_key = \"secretsmanager\"): the checkpoint signing key."
  value       = aws_secretsmanager_secret.audit_signing_key.name
}

output "task_policy_json" {
  description = "The IAM policy a task serving this force needs: this force's key, buckets and prefix only."
  value       = data.aws_iam_policy_document.task.json
}

output "export_policy_json" {
  description = "The IAM policy the operator's task adds to exports and imports this force's archive: its exports under its prefix, its key."
  value       = data.aws_iam_policy_document.export.json
}
