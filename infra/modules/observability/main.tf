# Alarms to an SNS topic (encrypted): the share of requests answered 5xx, the p99 latency, each database's
# connections and its readers' replication lag, each force's audit sealer lag and the sealer's errors; a dashboard
# of the same; X-Ray's sampling of Concord's traces (the ADOT collector in each task sends them, app/ OpenTelemetry
# instrumentation emits them when OTEL_EXPORTER_OTLP_ENDPOINT is set).

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "alarms" {
  description         = "${var.name}: alarm notifications"
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
        Sid       = "CloudWatchPublishes"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
      },
    ]
  })
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  database_alarms = {
    "db-connections" = { metric = "DatabaseConnections", threshold = var.max_db_connections, what = "more than ${var.max_db_connections} connections (the tasks' pools add up to it)" }
    "replica-lag"    = { metric = "AuroraReplicaLagMaximum", threshold = var.max_replica_lag_ms, what = "a reader more than ${var.max_replica_lag_ms} ms behind the writer" }
  }
  alb = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  # Every alarm, by name: the metrics it reads (by query id), the metric math over them when there are several (else
  # the one metric is alarmed on), its threshold, how many of the last evaluation_periods minutes must breach, and
  # what a minute without data counts as.
  alarms = merge(
    {
      "5xx-rate" = {
        description        = "More than ${var.error_rate_percent}% of requests answered 5xx by Concord for 5 minutes"
        threshold          = var.error_rate_percent
        evaluation_periods = 5
        datapoints         = 5
        missing            = "notBreaching"
        expression         = "100 * errors / MAX([errors, requests])"
        metrics = [
          { id = "errors", namespace = "AWS/ApplicationELB", name = "HTTPCode_Target_5XX_Count", stat = "Sum", dimensions = local.alb },
          { id = "requests", namespace = "AWS/ApplicationELB", name = "RequestCount", stat = "Sum", dimensions = local.alb },
        ]
      }
      "p99-latency" = {
        description        = "p99 response time above ${var.p99_latency_seconds} s for 5 minutes"
        threshold          = var.p99_latency_seconds
        evaluation_periods = 5
        datapoints         = 5
        missing            = "notBreaching"
        expression         = null
        metrics            = [{ id = "latency", namespace = "AWS/ApplicationELB", name = "TargetResponseTime", stat = "p99", dimensions = local.alb }]
      }
      # The sealer logs each failed round or force ("audit: sealing <slug> failed", level error): the database, the
      # signing key's secret or the audit bucket refusing it.
      "audit-seal-errors" = {
        description        = "The audit sealer failed to seal (its log lines in ${var.log_group_name}: logger app.audit.seal, level error)"
        threshold          = 0
        evaluation_periods = 15
        datapoints         = 15
        missing            = "notBreaching"
        expression         = null
        metrics            = [{ id = "errors", namespace = "Concord", name = "AuditSealErrors", stat = "Sum", dimensions = {} }]
      }
    },
    # Each database cluster's connections and replica lag.
    { for pair in setproduct(keys(var.database_clusters), keys(local.database_alarms)) : "${pair[0]}-${pair[1]}" => {
      description        = "${pair[0]}: ${local.database_alarms[pair[1]].what}"
      threshold          = local.database_alarms[pair[1]].threshold
      evaluation_periods = 5
      datapoints         = 5
      missing            = "missing"
      expression         = null
      metrics            = [{ id = "m", namespace = "AWS/RDS", name = local.database_alarms[pair[1]].metric, stat = "Maximum", dimensions = { DBClusterIdentifier = var.database_clusters[pair[0]] } }]
    } },
    # concord_audit_sealer_lag_seconds, scraped from the sealer task's /metrics by its collector (the service module).
    # No figure at all is as bad as a late one: it means no sealer is running, or none reports.
    { for slug in var.forces : "${slug}-audit-seal-lag" => {
      description        = "${slug}: its oldest unsealed audit event older than ${var.max_seal_lag_seconds} s, or no sealer reporting"
      threshold          = var.max_seal_lag_seconds
      evaluation_periods = 10
      datapoints         = 10
      missing            = "breaching"
      expression         = null
      metrics            = [{ id = "lag", namespace = "Concord", name = "concord_audit_sealer_lag_seconds", stat = "Maximum", dimensions = { force = slug } }]
    } },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.datapoints
  treat_missing_data  = each.value.missing
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  dynamic "metric_query" {
    for_each = each.value.expression == null ? [] : [each.value.expression]
    content {
      id          = "alarmed"
      expression  = metric_query.value
      return_data = true
    }
  }

  dynamic "metric_query" {
    for_each = each.value.metrics
    content {
      id          = metric_query.value.id
      return_data = each.value.expression == null
      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.name
        stat        = metric_query.value.stat
        period      = 60
        dimensions  = metric_query.value.dimensions
      }
    }
  }
}

# The earlier per-alarm resources, now instances of the one above (nothing is destroyed and made again).
moved {
  from = aws_cloudwatch_metric_alarm.error_rate
  to   = aws_cloudwatch_metric_alarm.this["5xx-rate"]
}

moved {
  from = aws_cloudwatch_metric_alarm.latency
  to   = aws_cloudwatch_metric_alarm.this["p99-latency"]
}

moved {
  from = aws_cloudwatch_metric_alarm.connections["pool"]
  to   = aws_cloudwatch_metric_alarm.this["pool-db-connections"]
}

moved {
  from = aws_cloudwatch_metric_alarm.replication_lag["pool"]
  to   = aws_cloudwatch_metric_alarm.this["pool-replica-lag"]
}

# Counts the sealer's error lines in the app's log group: alarmed on above.
resource "aws_cloudwatch_log_metric_filter" "audit_seal_errors" {
  name           = "${var.name}-audit-seal-errors"
  log_group_name = var.log_group_name
  pattern        = "{ ($.logger = \"app.audit.seal\") && ($.level = \"error\") }"

  metric_transformation {
    namespace     = "Concord"
    name          = "AuditSealErrors"
    value         = "1"
    default_value = "0"
  }
}

resource "aws_xray_sampling_rule" "concord" {
  rule_name      = substr("${var.name}-default", 0, 32)
  priority       = 1000
  reservoir_size = 5
  fixed_rate     = var.trace_sample_rate
  service_name   = "concord"
  service_type   = "*"
  host           = "*"
  http_method    = "*"
  url_path       = "*"
  resource_arn   = "*"
  version        = 1
}

# The dashboard: two panels a row, each a minute's figures.
locals {
  panels = [
    {
      title = "Requests and 5xx", stat = "Sum"
      metrics = [
        ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix],
        [".", "HTTPCode_Target_5XX_Count", ".", ".", ".", "."],
      ]
    },
    {
      title = "Latency p50 / p99", stat = "p50"
      metrics = [
        ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix],
        ["...", { stat = "p99" }],
      ]
    },
    {
      title   = "Database connections", stat = "Maximum"
      metrics = [for name, id in var.database_clusters : ["AWS/RDS", "DatabaseConnections", "DBClusterIdentifier", id]]
    },
    {
      title   = "Replica lag (ms)", stat = "Maximum"
      metrics = [for name, id in var.database_clusters : ["AWS/RDS", "AuroraReplicaLagMaximum", "DBClusterIdentifier", id]]
    },
    {
      title   = "Audit sealer lag (s), by force", stat = "Maximum"
      metrics = [for slug in var.forces : ["Concord", "concord_audit_sealer_lag_seconds", "force", slug]]
    },
    {
      title   = "Audit sealer errors", stat = "Sum"
      metrics = [["Concord", "AuditSealErrors"]]
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [for i, panel in local.panels : {
      type       = "metric", x = (i % 2) * 12, y = floor(i / 2) * 6, width = 12, height = 6
      properties = merge(panel, { region = var.region, period = 60 })
    }]
  })
}
