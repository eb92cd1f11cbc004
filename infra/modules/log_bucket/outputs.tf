output "id" {
  description = "The bucket's name."
  value       = module.bucket.id
}
