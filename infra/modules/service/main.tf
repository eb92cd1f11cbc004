# Concord on ECS Fargate behind an internet-facing ALB (HTTPS only: no port 80 listener, an API has no one to redirect) and a WAFv2 web ACL: AWS's managed rule sets and a
# per-client rate limit. Tasks in the private subnets, autoscaled on CPU and on requests per task; each task runs
# an AWS Distro for OpenTelemetry collector beside Concord (traces to X-Ray, metrics to CloudWatch). A separate
# release task definition (same image) runs the migrations and applies the tenant files; the deploy pipeline runs
# it to completion before it moves the service to the new image (infra/README.md, "Deploy").

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  container = "concord"
  dedicated = { for slug, db in var.dedicated_databases : slug => db }
  # The app's database settings: the pool, and each dedicated force's own cluster (CONCORD_DATABASE_URL_<SLUG>).
  database_env = concat(
    [{ name = "DATABASE_URL", value = "postgresql://${var.pool_database.runtime_role}@${var.pool_database.endpoint}:${var.pool_database.port}/${var.pool_database.database_name}?sslmode=verify-full&sslrootcert=system" }],
    [for slug, db in local.dedicated : {
      name  = "CONCORD_DATABASE_URL_${upper(slug)}"
      value = "postgresql://${db.runtime_role}@${db.endpoint}:${db.port}/${db.database_name}?sslmode=verify-full&sslrootcert=system"
    }],
  )
  runtime_secrets = concat(
    [{ name = "CONCORD_DATABASE_PASSWORD", valueFrom = "${var.pool_database.runtime_secret_arn}:password::" }],
    [for slug, db in local.dedicated : { name = "CONCORD_DATABASE_PASSWORD_${upper(slug)}", valueFrom = "${db.runtime_secret_arn}:password::" }],
  )
  # The owner's password is one per cluster too; the release task migrates them one cluster at a time.
  owner_secrets = concat(
    [{ name = "CONCORD_OWNER_PASSWORD", valueFrom = "${var.pool_database.owner_secret_arn}:password::" }],
    [for slug, db in local.dedicated : { name = "CONCORD_OWNER_PASSWORD_${upper(slug)}", valueFrom = "${db.owner_secret_arn}:password::" }],
  )
  common_env = concat(local.database_env, [
    { name = "CONCORD_ENV", value = "production" },
    { name = "CONCORD_PUBLIC_URL", value = "https://${var.domain_name}" },
    { name = "CONCORD_TRUSTED_PROXIES", value = "1" },
    { name = "FORWARDED_ALLOW_IPS", value = "*" },
    { name = "CONCORD_OWNER_ROLE", value = var.pool_database.owner_role },
    { name = "OTEL_EXPORTER_OTLP_ENDPOINT", value = "http://127.0.0.1:4318" },
    { name = "OTEL_SERVICE_NAME", value = "concord" },
  ])
  log_configuration = {
    logDriver = "awslogs"
    options = {
      awslogs-group         = aws_cloudwatch_log_group.app.name
      awslogs-region        = data.aws_region.current.name
      awslogs-stream-prefix = "concord"
    }
  }
}

# ---------------------------------------------------------------- logs

resource "aws_kms_key" "logs" {
  description         = "${var.name}: CloudWatch logs"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsUse"
        Effect    = "Allow"
        Principal = { Service = "logs.${data.aws_region.current.name}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
      },
    ]
  })
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/concord/${var.name}/app"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_cloudwatch_log_group" "waf" {
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

# ---------------------------------------------------------------- load balancer and firewall

resource "aws_security_group" "alb" {
  name_prefix = "${var.name}-alb-"
  description = "${var.name}: HTTPS (only) from the internet to the load balancer"
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from clients"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To Concord's tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
}

resource "aws_lb" "this" {
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = true
  idle_timeout               = 60

  access_logs {
    bucket  = var.access_log_bucket
    prefix  = "alb"
    enabled = true
  }
}

resource "aws_lb_target_group" "this" {
  name_prefix          = "cncrd-"
  port                 = 8000
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  # Every database reachable and at the migration head (docs/deployment.md, "Health checks and outages").
  health_check {
    path                = "/readyz"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}

resource "aws_wafv2_web_acl" "this" {
  name  = var.name
  scope = "REGIONAL"

  default_action {
    allow {}
  }

  # AWS's managed rule groups: common web exploits, known bad inputs (Log4j among them), addresses with a bad
  # reputation, SQL injection, anonymising services. Concord's own input checks stand behind them.
  rule {
    name     = "AWSManagedRulesCommonRuleSet"
    priority = 0
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesCommonRuleSet"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "AWSManagedRulesCommonRuleSet"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "AWSManagedRulesKnownBadInputsRuleSet"
    priority = 1
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "AWSManagedRulesKnownBadInputsRuleSet"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "AWSManagedRulesAmazonIpReputationList"
    priority = 2
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesAmazonIpReputationList"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "AWSManagedRulesAmazonIpReputationList"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "AWSManagedRulesSQLiRuleSet"
    priority = 3
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesSQLiRuleSet"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "AWSManagedRulesSQLiRuleSet"
      sampled_requests_enabled   = true
    }
  }

  # Anonymising services (Tor, VPNs) blocked; hosting providers only counted, since forces' own systems and partners'
  # integrations may run in a cloud.
  rule {
    name     = "AWSManagedRulesAnonymousIpList"
    priority = 4
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesAnonymousIpList"
        rule_action_override {
          name = "HostingProviderIPList"
          action_to_use {
            count {}
          }
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "AWSManagedRulesAnonymousIpList"
      sampled_requests_enabled   = true
    }
  }

  # Per client address, over 5 minutes; behind it, Concord's own limits per user and force (app/ratelimit.py).
  rule {
    name     = "per-client-rate"
    priority = 100
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit              = var.waf_rate_limit_per_5_minutes
        aggregate_key_type = "IP"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "per-client-rate"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = var.name
    sampled_requests_enabled   = true
  }
}

resource "aws_wafv2_web_acl_association" "this" {
  resource_arn = aws_lb.this.arn
  web_acl_arn  = aws_wafv2_web_acl.this.arn
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }
}

# ---------------------------------------------------------------- tasks

resource "aws_security_group" "tasks" {
  name_prefix = "${var.name}-tasks-"
  description = "${var.name}: Concord's tasks (web and release)"
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "From the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (S3, KMS, X-Ray, CloudWatch) and the forces' identity providers"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "tasks_postgres" {
  security_group_id = aws_security_group.tasks.id
  description       = "PostgreSQL inside the VPC"
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
}

data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# The execution role pulls the image, writes the logs and reads the secrets the task definitions name.
resource "aws_iam_role" "execution" {
  name_prefix        = "${var.name}-exec-"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([for s in concat(local.runtime_secrets, local.owner_secrets) : split(":password::", s.valueFrom)[0]])
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = var.secret_kms_key_arns
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

# The web tasks' role: the keys, buckets and prefixes of the forces this service serves, and nothing else.
resource "aws_iam_role" "task" {
  name_prefix        = "${var.name}-task-"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

resource "aws_iam_role_policy" "force" {
  for_each = var.force_policies
  name     = "force-${each.key}"
  role     = aws_iam_role.task.id
  policy   = each.value
}

data "aws_iam_policy_document" "telemetry" {
  statement {
    sid       = "Traces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"] #checkov:skip=CKV_AWS_356:X-Ray's write actions take no resource ARN
  }
  statement {
    sid       = "Metrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Concord"]
    }
  }
}

resource "aws_iam_role_policy" "telemetry" {
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.telemetry.json
}

# The release task's role: the same storage rights (tenants apply checks each force's storage), no more.
resource "aws_iam_role" "release" {
  name_prefix        = "${var.name}-release-"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

resource "aws_iam_role_policy" "release_force" {
  for_each = var.force_policies
  name     = "force-${each.key}"
  role     = aws_iam_role.release.id
  policy   = each.value
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enhanced"
  }
}

resource "aws_ecs_task_definition" "web" {
  family                   = "${var.name}-web"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The root filesystem is read-only: var/ and /tmp (gunicorn's worker heartbeats, spooled uploads) are the task's
  # own scratch space, gone with it.
  volume {
    name = "var"
  }
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = local.container
      image                  = var.image
      essential              = true
      readonlyRootFilesystem = true
      user                   = "10001:10001"
      portMappings           = [{ containerPort = 8000, protocol = "tcp" }]
      environment            = concat(local.common_env, [{ name = "WEB_CONCURRENCY", value = tostring(var.workers) }])
      secrets                = local.runtime_secrets
      mountPoints            = [{ sourceVolume = "var", containerPath = "/var/lib/concord" }, { sourceVolume = "tmp", containerPath = "/tmp" }]
      logConfiguration       = local.log_configuration
      dependsOn              = [{ containerName = "otel", condition = "START" }]
    },
    {
      name                   = "otel"
      image                  = var.otel_collector_image
      essential              = false
      readonlyRootFilesystem = true
      command                = ["--config=/etc/ecs/ecs-default-config.yaml"]
      logConfiguration       = merge(local.log_configuration, { options = merge(local.log_configuration.options, { awslogs-stream-prefix = "otel" }) })
    },
  ])
}

resource "aws_ecs_task_definition" "release" {
  family                   = "${var.name}-release"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.release.arn

  # The root filesystem is read-only: var/ and /tmp (gunicorn's worker heartbeats, spooled uploads) are the task's
  # own scratch space, gone with it.
  volume {
    name = "var"
  }
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = local.container
      image                  = var.image
      essential              = true
      readonlyRootFilesystem = true
      user                   = "10001:10001"
      command                = ["sh", "-c", "concord db upgrade && concord tenants apply"]
      environment            = local.common_env
      secrets                = concat(local.runtime_secrets, local.owner_secrets)
      mountPoints            = [{ sourceVolume = "var", containerPath = "/var/lib/concord" }, { sourceVolume = "tmp", containerPath = "/tmp" }]
      logConfiguration       = merge(local.log_configuration, { options = merge(local.log_configuration.options, { awslogs-stream-prefix = "release" }) })
    },
  ])
}

resource "aws_ecs_service" "web" {
  name                              = "web"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.web.arn
  desired_count                     = var.min_tasks
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = 60
  enable_execute_command            = false

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = local.container
    container_port   = 8000
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # desired_count is the autoscaler's; the task definition is moved by the deploy pipeline after the release task
  # has run (infra/README.md, "Deploy"): `terraform apply` registers new revisions, it never rolls the service.
  lifecycle {
    ignore_changes = [desired_count, task_definition]
  }

  depends_on = [aws_lb_listener.https]
}

# ---------------------------------------------------------------- autoscaling

resource "aws_appautoscaling_target" "web" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.web.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_tasks
  max_capacity       = var.max_tasks
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${var.name}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_task_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.this.arn_suffix}/${aws_lb_target_group.this.arn_suffix}"
    }
  }
}
