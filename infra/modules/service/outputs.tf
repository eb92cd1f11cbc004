output "alb_dns_name" {
  description = "Point domain_name here (an alias record)."
  value       = aws_lb.this.dns_name
}

output "alb_arn_suffix" {
  description = "The load balancer's CloudWatch dimension."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "The target group's CloudWatch dimension."
  value       = aws_lb_target_group.this.arn_suffix
}

output "cluster_name" {
  description = "The ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "The web service."
  value       = aws_ecs_service.web.name
}

output "sealer_service_name" {
  description = "The service of the one audit sealer (`concord serve`), moved by the deploy pipeline with the web service."
  value       = aws_ecs_service.sealer.name
}

output "sealer_task_family" {
  description = "The sealer's task definition family."
  value       = aws_ecs_task_definition.this["sealer"].family
}

output "app_secret_arns" {
  description = "The app's own secrets by environment variable (CONCORD_METRICS_TOKEN, CONCORD_CONSOLE_SECRET): the scraper's copy of the token, rotation."
  value       = { for s in local.app_secrets : s.name => s.valueFrom }
}

output "task_security_group_id" {
  description = "The tasks' security group (the databases admit it)."
  value       = aws_security_group.tasks.id
}

output "web_task_family" {
  description = "The web task definition's family."
  value       = aws_ecs_task_definition.this["web"].family
}

output "release_task_definition_arn" {
  description = "The release task (concord db upgrade && concord tenants apply), run before each deploy."
  value       = aws_ecs_task_definition.this["release"].arn
}

output "release_network_configuration" {
  description = "The network configuration for `aws ecs run-task` of the release task."
  value = {
    awsvpcConfiguration = {
      subnets        = var.private_subnet_ids
      securityGroups = [aws_security_group.tasks.id]
      assignPublicIp = "DISABLED"
    }
  }
}

output "log_group_name" {
  description = "The app's (and the release task's) log group."
  value       = aws_cloudwatch_log_group.app.name
}
