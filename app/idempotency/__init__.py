"""Idempotency-Key on creating requests: a retry returns the first response and creates nothing."""
