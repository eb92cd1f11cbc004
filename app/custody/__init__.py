"""Custody: detention records and the PACE clock (issue 5; the clock first)."""
