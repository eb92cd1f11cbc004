# Concord on ECS Fargate behind an internet-facing ALB (HTTPS only: no port 80 listener, an API has no one to
# redirect) and a WAFv2 web ACL: AWS's managed rule sets, a per-client rate limit, and /metrics refused. Tasks in the
# private subnets, autoscaled on CPU and on requests per task; each runs an AWS Distro for OpenTelemetry collector
# beside Concord (traces to X-Ray; /metrics scraped with its token, the sealer's lag to CloudWatch). One more task,
# the "sealer" service, runs `concord serve`, whose supervisor seals every force's audit trail every 5 s (the web
# tasks run the image's plain gunicorn, so exactly one sealer runs). A separate release task definition (same
# image) runs the migrations and applies the tenant files; the deploy pipeline runs it to completion before it
# moves the services to the new image (infra/README.md, "Deploy"). The app's own secrets (the /metrics token, the
# console's session key) are made here, in Secrets Manager.

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
  # The app's own secrets, each a random value made here (infra/README.md, "Secrets"); every Concord container
  # gets them, since every command reads the same settings.
  app_secret_names = {
    metrics_token  = "CONCORD_METRICS_TOKEN"  # /metrics answers only a request bearing it (app/metrics.py)
    console_secret = "CONCORD_CONSOLE_SECRET" # signs the console's session cookies (app/console/signin.py)
  }
  app_secrets = [for key, name in local.app_secret_names : { name = name, valueFrom = aws_secretsmanager_secret.app[key].arn }]
  secret_arns = concat(
    [for s in concat(local.runtime_secrets, local.owner_secrets) : split(":password::", s.valueFrom)[0]],
    [for s in local.app_secrets : s.valueFrom],
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

  # /metrics is for the collector beside each task, never from the internet (it also wants its token).
  rule {
    name     = "no-metrics-from-internet"
    priority = 10
    action {
      block {}
    }
    statement {
      byte_match_statement {
        search_string         = "/metrics"
        positional_constraint = "STARTS_WITH"
        field_to_match {
          uri_path {}
        }
        text_transformation {
          priority = 0
          type     = "URL_DECODE"
        }
        text_transformation {
          priority = 1
          type     = "LOWERCASE"
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "no-metrics-from-internet"
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
    resources = local.secret_arns
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = distinct(concat(var.secret_kms_key_arns, [var.app_secrets_kms_key_arn]))
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
  # The collector's awsemf exporter: Concord's metrics as embedded metric format log events.
  statement {
    sid       = "MetricsAsEmbeddedMetricFormat"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [aws_cloudwatch_log_group.metrics.arn, "${aws_cloudwatch_log_group.metrics.arn}:*"]
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

# ... and each force's exports (`concord tenants export`/`import-archive` run as this task), which the web tasks lack.
resource "aws_iam_role_policy" "release_export" {
  for_each = var.force_export_policies
  name     = "export-${each.key}"
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

# ---------------------------------------------------------------- the app's secrets

resource "random_password" "app" {
  for_each = local.app_secret_names
  length   = 48
  special  = false
}

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:a random token with no other party to tell: rotated by putting a new value and redeploying (infra/README.md, "Secrets"), no rotation function to run
  for_each    = local.app_secret_names
  name_prefix = "${var.name}/${replace(each.key, "_", "-")}-"
  description = "${var.name}: ${each.value}"
  kms_key_id  = var.app_secrets_kms_key_arn
}

resource "aws_secretsmanager_secret_version" "app" {
  for_each      = local.app_secret_names
  secret_id     = aws_secretsmanager_secret.app[each.key].id
  secret_string = random_password.app[each.key].result

  lifecycle {
    ignore_changes = [secret_string] # a value put by hand (rotation) stays
  }
}

# ---------------------------------------------------------------- task definitions and services

# The collector beside each web and sealer task: OTLP traces from Concord to X-Ray, and Concord's /metrics (scraped
# with the token) to CloudWatch as embedded metric format, of which only the sealer's lag becomes a metric (namespace
# Concord, dimension force; the alarms and the dashboard read it).
resource "aws_cloudwatch_log_group" "metrics" {
  name              = "/concord/${var.name}/metrics"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

locals {
  collector_config = yamlencode({
    receivers = {
      otlp = { protocols = { grpc = { endpoint = "127.0.0.1:4317" }, http = { endpoint = "127.0.0.1:4318" } } }
      prometheus = { config = { scrape_configs = [{
        job_name        = "concord"
        scrape_interval = "60s"
        metrics_path    = "/metrics"
        authorization   = { credentials = "$${env:CONCORD_METRICS_TOKEN}" }
        static_configs  = [{ targets = ["127.0.0.1:8000"] }]
      }] } }
    }
    processors = { batch = {} }
    exporters = {
      awsxray = { region = data.aws_region.current.name }
      awsemf = {
        region                  = data.aws_region.current.name
        namespace               = "Concord"
        log_group_name          = aws_cloudwatch_log_group.metrics.name
        dimension_rollup_option = "NoDimensionRollup"
        metric_declarations     = [{ dimensions = [["force"]], metric_name_selectors = ["^concord_audit_sealer_lag_seconds$"] }]
      }
    }
    service = { pipelines = {
      traces  = { receivers = ["otlp"], processors = ["batch"], exporters = ["awsxray"] }
      metrics = { receivers = ["prometheus"], processors = ["batch"], exporters = ["awsemf"] }
    } }
  })
  collector = {
    name                   = "otel"
    image                  = var.otel_collector_image
    essential              = false
    readonlyRootFilesystem = true
    environment            = [{ name = "AOT_CONFIG_CONTENT", value = local.collector_config }]
    secrets                = [for s in local.app_secrets : s if s.name == "CONCORD_METRICS_TOKEN"]
    logConfiguration       = merge(local.log_configuration, { options = merge(local.log_configuration.options, { awslogs-stream-prefix = "otel" }) })
  }
  # web: the image's command (gunicorn), behind the load balancer. sealer: `concord serve`, one task, one worker, no
  # traffic; its supervisor seals every 5 s (a second sealer would only wait on the first's per-force lock, and rebuild
  # its tree from every leaf each round: one is right). release: migrations and tenant config, run by the pipeline.
  tasks = {
    web = {
      cpu         = var.task_cpu, memory = var.task_memory, role = aws_iam_role.task.arn, command = null, collector = true
      environment = concat(local.common_env, [{ name = "WEB_CONCURRENCY", value = tostring(var.workers) }])
      secrets     = concat(local.runtime_secrets, local.app_secrets)
    }
    sealer = {
      cpu = 512, memory = 1024, role = aws_iam_role.task.arn, command = ["concord", "serve"], collector = true
      # PROMETHEUS_MULTIPROC_DIR named before `concord serve` starts: the supervisor (where the sealer runs) and the
      # gunicorn workers share it, so the sealer's gauge is in what /metrics serves.
      environment = concat(local.common_env, [
        { name = "WEB_CONCURRENCY", value = "1" },
        { name = "PROMETHEUS_MULTIPROC_DIR", value = "/tmp/concord-metrics" },
      ])
      secrets = concat(local.runtime_secrets, local.app_secrets)
    }
    release = {
      cpu         = 512, memory = 1024, role = aws_iam_role.release.arn, command = ["sh", "-c", "concord db upgrade && concord tenants apply"], collector = false
      environment = local.common_env
      secrets     = concat(local.runtime_secrets, local.owner_secrets, local.app_secrets)
    }
  }
}

resource "aws_ecs_task_definition" "this" {
  for_each                 = local.tasks
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = each.value.role

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The root filesystem is read-only: var/ and /tmp (gunicorn's worker heartbeats, spooled uploads, the metrics'
  # files) are the task's own scratch space, gone with it.
  volume {
    name = "var"
  }
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode(concat([merge(
    {
      name                   = local.container
      image                  = var.image
      essential              = true
      readonlyRootFilesystem = true
      user                   = "10001:10001"
      portMappings           = [{ containerPort = 8000, protocol = "tcp" }]
      environment            = each.value.environment
      secrets                = each.value.secrets
      mountPoints            = [{ sourceVolume = "var", containerPath = "/var/lib/concord" }, { sourceVolume = "tmp", containerPath = "/tmp" }]
      logConfiguration       = merge(local.log_configuration, { options = merge(local.log_configuration.options, { awslogs-stream-prefix = each.key == "web" ? "concord" : each.key }) })
    },
    # A command only where the image's (gunicorn) is not the one; the collector only where there is one.
    { for key, value in { command = each.value.command } : key => value if value != null },
    { for key, value in { dependsOn = [{ containerName = "otel", condition = "START" }] } : key => value if each.value.collector },
  )], [for container in [local.collector] : container if each.value.collector]))
}

# The task definitions' earlier addresses (nothing is destroyed and made again).
moved {
  from = aws_ecs_task_definition.web
  to   = aws_ecs_task_definition.this["web"]
}

moved {
  from = aws_ecs_task_definition.release
  to   = aws_ecs_task_definition.this["release"]
}

resource "aws_ecs_service" "web" {
  name                              = "web"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.this["web"].arn
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

# The one sealer: stopped before its replacement starts (0 % healthy, 100 % at most), so two never overlap.
resource "aws_ecs_service" "sealer" {
  name                               = "sealer"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this["sealer"].arn
  desired_count                      = 1
  launch_type                        = "FARGATE"
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100
  enable_execute_command             = false

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Moved by the deploy pipeline with the web service (infra/README.md, "Deploy").
  lifecycle {
    ignore_changes = [task_definition]
  }
}

# ---------------------------------------------------------------- autoscaling

resource "aws_appautoscaling_target" "web" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.web.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_tasks
  max_capacity       = var.max_tasks
}

locals {
  scaling = {
    cpu      = { target = var.cpu_target_percent, metric = "ECSServiceAverageCPUUtilization", label = null }
    requests = { target = var.requests_per_task_target, metric = "ALBRequestCountPerTarget", label = "${aws_lb.this.arn_suffix}/${aws_lb_target_group.this.arn_suffix}" }
  }
}

resource "aws_appautoscaling_policy" "this" {
  for_each           = local.scaling
  name               = "${var.name}-${each.key}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = each.value.target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = each.value.metric
      resource_label         = each.value.label
    }
  }
}

moved {
  from = aws_appautoscaling_policy.cpu
  to   = aws_appautoscaling_policy.this["cpu"]
}

moved {
  from = aws_appautoscaling_policy.requests
  to   = aws_appautoscaling_policy.this["requests"]
}
