variable "name" {
  description = "The bucket's name (globally unique)."
  type        = string
}

variable "kms_key_arn" {
  description = "The default SSE-KMS key; null only for the access-log bucket (SSE-S3: AWS's log delivery cannot use a KMS key)."
  type        = string
}

variable "require_bucket_key" {
  description = "Refuse every put that does not name kms_key_arn (a force's own bucket: nothing under another key)."
  type        = bool
  default     = false
}

variable "object_lock_days" {
  description = "Object Lock (COMPLIANCE) default retention in days; 0 for a bucket without Object Lock."
  type        = number
  default     = 0
}

variable "prefix_keys" {
  description = "A shared bucket's prefixes (a pooled force's slug) mapped to the only KMS key allowed under each."
  type        = map(string)
  default     = {}
}

variable "access_log_bucket" {
  description = "The bucket server access logs go to (null: this bucket is the access-log bucket)."
  type        = string
  default     = null
}

variable "infrequent_access_after_days" {
  description = "Days before current objects move to STANDARD_IA (null: they stay in STANDARD)."
  type        = number
  default     = 90
}

variable "expire_after_days" {
  description = "Days after which current objects expire (become previous versions); null: never."
  type        = number
  default     = null
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object's previous version is kept."
  type        = number
  default     = 365
}

variable "policy_documents" {
  description = "Further bucket policy statements (IAM policy JSON documents) merged into the bucket's own."
  type        = list(string)
  default     = []
}
