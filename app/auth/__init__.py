"""Identity and access: token verification, principals, the role catalogue, the dev identity provider."""
