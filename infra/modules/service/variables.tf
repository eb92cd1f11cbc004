variable "name" {
  description = "Prefix for every resource's name (e.g. concord-prod)."
  type        = string
}

variable "image" {
  description = "The image the tasks run: the deployment's build FROM Concord's image, with its tenant files in /etc/concord/tenants, by digest."
  type        = string
}

variable "otel_collector_image" {
  description = "The AWS Distro for OpenTelemetry collector, pinned (traces to X-Ray, metrics to CloudWatch)."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
}

variable "domain_name" {
  description = "The public name clients use (CONCORD_PUBLIC_URL is https://<it>)."
  type        = string
}

variable "certificate_arn" {
  description = "The ACM certificate for domain_name."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "vpc_cidr_block" {
  description = "The VPC's range (the tasks reach PostgreSQL inside it)."
  type        = string
}

variable "public_subnet_ids" {
  description = "The load balancer's subnets, in at least two zones."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "The tasks' subnets, in at least two zones."
  type        = list(string)
}

variable "access_log_bucket" {
  description = "Where the load balancer writes its access logs."
  type        = string
}

variable "pool_database" {
  description = "The pooled database (the database module's outputs)."
  type = object({
    endpoint           = string
    port               = number
    database_name      = string
    owner_role         = string
    runtime_role       = string
    owner_secret_arn   = string
    runtime_secret_arn = string
  })
}

variable "dedicated_databases" {
  description = "Each dedicated force's own database, by slug (the database module's outputs)."
  type = map(object({
    endpoint           = string
    port               = number
    database_name      = string
    owner_role         = string
    runtime_role       = string
    owner_secret_arn   = string
    runtime_secret_arn = string
  }))
  default = {}
}

variable "secret_kms_key_arns" {
  description = "The keys the database secrets are encrypted under (the execution role decrypts them)."
  type        = list(string)
}

variable "app_secrets_kms_key_arn" {
  description = "The key the app's own secrets (the /metrics token, the console's session key) are encrypted under."
  type        = string
}

variable "force_export_policies" {
  description = "slug => the force module's export_policy_json: given to the release task (the operator's), not to the web tasks."
  type        = map(string)
  default     = {}
}

variable "force_policies" {
  description = "The forces this service serves: slug => the force module's task_policy_json. The tasks get these and no other force's."
  type        = map(string)
}

variable "waf_rate_limit_per_5_minutes" {
  description = "Requests one client address may send in any 5 minutes before the WAF blocks it."
  type        = number
  default     = 3000
}

variable "task_cpu" {
  description = "Fargate CPU units per web task."
  type        = number
  default     = 1024
}

variable "task_memory" {
  description = "Fargate memory (MiB) per web task."
  type        = number
  default     = 2048
}

variable "workers" {
  description = "gunicorn workers per task (WEB_CONCURRENCY): about one per vCPU."
  type        = number
  default     = 2
}

variable "min_tasks" {
  description = "Fewest web tasks (two or more: one per zone)."
  type        = number
  default     = 2
}

variable "max_tasks" {
  description = "Most web tasks the autoscaler may run."
  type        = number
  default     = 10
}

variable "cpu_target_percent" {
  description = "Average CPU the autoscaler keeps the tasks at."
  type        = number
  default     = 60
}

variable "requests_per_task_target" {
  description = "Requests per task per minute the autoscaler keeps the tasks at (ALBRequestCountPerTarget)."
  type        = number
  default     = 3000
}

variable "log_retention_days" {
  description = "How long the app's and the WAF's logs are kept."
  type        = number
  default     = 365
}
