terraform {
  required_version = ">= 1.7" # `removed` blocks
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
    tls = { # only to forget the audit key earlier versions made (modules/force, `removed`)
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }
}
