"""Documents and evidence in object storage: content-addressed, per-force locations, audited downloads."""
