variable "slug" {
  description = "The force's slug, as in its tenants/<slug>.toml."
  type        = string
}

variable "deployment" {
  description = "The force's deployment field: pooled or dedicated."
  type        = string

  validation {
    condition     = contains(["pooled", "dedicated"], var.deployment)
    error_message = "deployment is pooled or dedicated."
  }
}

variable "environment" {
  description = "The deployment's name (prod, staging), part of every name."
  type        = string
}

variable "pooled_documents_bucket" {
  description = "The shared documents bucket a pooled force has a prefix in (ignored for a dedicated force)."
  type        = string
  default     = null
}

variable "pooled_audit_bucket" {
  description = "The shared Object Lock bucket for a pooled force's audit checkpoints (ignored for a dedicated force)."
  type        = string
  default     = null
}

variable "pooled_exports_bucket" {
  description = "The shared exports bucket a pooled force has a prefix in (ignored for a dedicated force)."
  type        = string
  default     = null
}

variable "access_log_bucket" {
  description = "Where a dedicated force's buckets log their access."
  type        = string
}

variable "audit_retention_days" {
  description = "Object Lock retention of audit checkpoints, in days."
  type        = number
  default     = 2557
}

variable "export_retention_days" {
  description = "Days an export stays in the exports bucket (hand it over within them, and before the force's key is deleted)."
  type        = number
  default     = 90
}
