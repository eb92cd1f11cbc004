variable "environment" {
  description = "The deployment's name, part of every resource's name."
  type        = string
  default     = "prod"
}

variable "region" {
  description = "The AWS region."
  type        = string
  default     = "eu-west-2"
}

variable "availability_zones" {
  description = "The zones to spread across, named (at least two), so that the set never changes under a plan."
  type        = list(string)
  default     = ["eu-west-2a", "eu-west-2b", "eu-west-2c"]
}

variable "tenants_dir" {
  description = "The deployment's tenant files, the same the image carries in /etc/concord/tenants (here: the demo's)."
  type        = string
  default     = "../../../tenants"
}

variable "image" {
  description = "The deployment's image (FROM Concord's, with its tenant files), by digest."
  type        = string
}

variable "domain_name" {
  description = "The public name clients use."
  type        = string
}

variable "certificate_arn" {
  description = "The ACM certificate for domain_name."
  type        = string
}

variable "rotation_lambda_arn" {
  description = "Secrets Manager's PostgreSQL single-user rotation function (deployed from AWS's template)."
  type        = string
}

variable "dedicated_instance_class" {
  description = "The instance class of a dedicated force's cluster."
  type        = string
  default     = "db.r6g.large"
}

variable "audit_retention_days" {
  description = "Object Lock retention of the audit checkpoints, in days (7 years)."
  type        = number
  default     = 2557
}

variable "export_retention_days" {
  description = "Days a force's export is kept before it expires (the pooled exports bucket; modules/force for a dedicated force's)."
  type        = number
  default     = 90
}

variable "alarm_emails" {
  description = "Who is mailed the alarms."
  type        = list(string)
  default     = []
}
