"""Sharing between forces: agreements, the grants compiled from them, masking, and the access log."""
