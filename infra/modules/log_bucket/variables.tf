variable "name" {
  description = "The access-log bucket's name (globally unique)."
  type        = string
}

variable "retention_days" {
  description = "How long access logs are kept."
  type        = number
  default     = 400
}
