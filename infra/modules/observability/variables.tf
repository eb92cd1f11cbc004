variable "name" {
  description = "Prefix for every resource's name (e.g. concord-prod)."
  type        = string
}

variable "region" {
  description = "The region the dashboard reads."
  type        = string
}

variable "alb_arn_suffix" {
  description = "The load balancer's CloudWatch dimension (the service module's output)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "The target group's CloudWatch dimension (the service module's output)."
  type        = string
}

variable "database_clusters" {
  description = "Every database cluster Concord serves: 'pool' and each dedicated force's slug => cluster identifier."
  type        = map(string)
}

variable "forces" {
  description = "Every force's slug: each has an alarm on its audit sealer lag."
  type        = list(string)
}

variable "log_group_name" {
  description = "The app's log group (the service module's log_group_name): the sealer's error lines are counted in it."
  type        = string
}

variable "alarm_emails" {
  description = "Addresses the alarms are mailed to (each confirms its subscription)."
  type        = list(string)
  default     = []
}

variable "error_rate_percent" {
  description = "The share of requests answered 5xx that raises the alarm."
  type        = number
  default     = 1
}

variable "p99_latency_seconds" {
  description = "The p99 response time that raises the alarm."
  type        = number
  default     = 1.5
}

variable "max_db_connections" {
  description = "Connections on one cluster that raise the alarm."
  type        = number
  default     = 400
}

variable "max_replica_lag_ms" {
  description = "A reader's lag behind the writer that raises the alarm."
  type        = number
  default     = 1000
}

variable "trace_sample_rate" {
  description = "The share of requests traced beyond the reservoir."
  type        = number
  default     = 0.05
}

variable "max_seal_lag_seconds" {
  description = "Age of a force's oldest unsealed audit event that raises the alarm (the sealer seals every 5 s)."
  type        = number
  default     = 3600
}
