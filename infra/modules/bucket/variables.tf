variable "name" {
  description = "The bucket's name (globally unique)."
  type        = string
}

variable "kms_key_arn" {
  description = "The default SSE-KMS key."
  type        = string
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
  description = "Days before current objects move to STANDARD_IA."
  type        = number
  default     = 90
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object's previous version is kept."
  type        = number
  default     = 365
}
