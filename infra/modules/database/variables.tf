variable "name" {
  description = "The cluster's identifier (e.g. concord-prod-pool, concord-prod-lakeshire)."
  type        = string
}

variable "vpc_id" {
  description = "The VPC the cluster lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two zones."
  type        = list(string)
}

variable "availability_zones" {
  description = "The zones the instances are spread over, in turn."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect on 5432 (the service's tasks and its release task)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "The key that encrypts storage, snapshots, Performance Insights and the secrets."
  type        = string
}

variable "engine_version" {
  description = "Aurora PostgreSQL's version (the app needs 16 or later)."
  type        = string
  default     = "16.6"
}

variable "instance_class" {
  description = "Each instance's class."
  type        = string
  default     = "db.r6g.large"
}

variable "instance_count" {
  description = "A writer plus readers; two or more for Multi-AZ failover."
  type        = number
  default     = 2

  validation {
    condition     = var.instance_count >= 2
    error_message = "A writer and at least one reader in another zone."
  }
}

variable "database_name" {
  description = "The database Concord uses on this cluster."
  type        = string
  default     = "concord"
}

variable "owner_role" {
  description = "The owner role (the cluster's master user): it runs the migrations (CONCORD_OWNER_ROLE)."
  type        = string
  default     = "concord_owner"
}

variable "runtime_role" {
  description = "The role the web tasks log in as (the migrations create and grant it)."
  type        = string
  default     = "concord_app"
}

variable "backup_retention_days" {
  description = "Automated backups kept, and the point-in-time recovery window."
  type        = number
  default     = 35
}

variable "rotation_lambda_arn" {
  description = "The Secrets Manager rotation function for PostgreSQL (AWS's single-user template) that rotates the runtime role's password."
  type        = string
}

variable "rotation_days" {
  description = "Days between rotations of the runtime role's password."
  type        = number
  default     = 30
}
