output "forces" {
  description = "The forces read from tenants/: slug => pooled or dedicated."
  value       = local.forces
}

output "storage" {
  description = "Each force's [storage] for its tenants/<slug>.toml (backend s3, bucket, prefix, kms_key_id), its [audit] (signing_key secretsmanager, secret_id), and where its exports go."
  value = {
    for slug, force in module.force : slug => {
      backend      = "s3"
      bucket       = force.documents_bucket
      prefix       = force.prefix
      kms_key_id   = force.kms_key_arn
      audit_bucket = force.audit_bucket
      audit        = { signing_key = "secretsmanager", secret_id = force.audit_signing_secret }
      exports      = "s3://${force.exports_bucket}/${force.prefix}"
    }
  }
}

output "load_balancer_dns_name" {
  description = "Point domain_name at this (alias record)."
  value       = module.service.alb_dns_name
}

output "release" {
  description = "What the deploy pipeline needs to run the release task before it updates the service."
  value = {
    cluster               = module.service.cluster_name
    service               = module.service.service_name
    task_definition       = module.service.release_task_definition_arn
    web_task_family       = module.service.web_task_family
    sealer_service        = module.service.sealer_service_name
    sealer_task_family    = module.service.sealer_task_family
    network_configuration = jsonencode(module.service.release_network_configuration)
  }
}

output "database_clusters" {
  description = "Each Aurora cluster's identifier (backups, restores): pool, and one per dedicated force by slug."
  value       = { for name, db in local.databases : name => db.cluster_id }
}

output "log_group" {
  description = "The CloudWatch log group of the app and of the release task (stream prefixes concord, release)."
  value       = module.service.log_group_name
}

output "dashboard" {
  description = "The CloudWatch dashboard."
  value       = module.observability.dashboard_name
}

output "app_secrets" {
  description = "The app's own secrets by environment variable: the /metrics token (for a scraper of your own) and the console's session key, for rotation."
  value       = module.service.app_secret_arns
}
