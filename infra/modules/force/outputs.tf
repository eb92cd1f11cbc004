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

output "task_policy_json" {
  description = "The IAM policy a task serving this force needs: this force's key, buckets and prefix only."
  value       = data.aws_iam_policy_document.task.json
}
