terraform {
  required_version = ">= 1.7" # `removed` blocks
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
    tls = { # only to forget the audit key earlier versions made (modules/force, `removed`)
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
    external = {
      source  = "hashicorp/external"
      version = "~> 2.3"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { Application = "concord", Environment = var.environment }
  }
}
