output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "public_subnet_ids" {
  description = "One public subnet per zone (load balancer)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "One private subnet per zone (tasks, databases)."
  value       = aws_subnet.private[*].id
}

output "s3_endpoint_id" {
  description = "The S3 gateway endpoint the tasks reach storage through."
  value       = aws_vpc_endpoint.s3.id
}

output "cidr_block" {
  description = "The VPC's address range."
  value       = aws_vpc.this.cidr_block
}
