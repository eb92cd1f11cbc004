output "cluster_id" {
  description = "The cluster's identifier (CloudWatch's DBClusterIdentifier)."
  value       = aws_rds_cluster.this.cluster_identifier
}

output "endpoint" {
  description = "The writer's endpoint."
  value       = aws_rds_cluster.this.endpoint
}

output "reader_endpoint" {
  description = "The readers' endpoint."
  value       = aws_rds_cluster.this.reader_endpoint
}

output "port" {
  description = "PostgreSQL's port."
  value       = aws_rds_cluster.this.port
}

output "database_name" {
  description = "The database Concord uses."
  value       = var.database_name
}

output "runtime_role" {
  description = "The runtime role's name."
  value       = var.runtime_role
}

output "owner_secret_arn" {
  description = "The owner's secret (managed and rotated by RDS): for the release task only."
  value       = aws_rds_cluster.this.master_user_secret[0].secret_arn
}

output "runtime_secret_arn" {
  description = "The runtime role's secret (rotated): for the web tasks."
  value       = aws_secretsmanager_secret.runtime.arn
}

output "security_group_id" {
  description = "The cluster's security group."
  value       = aws_security_group.this.id
}
