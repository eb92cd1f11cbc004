"""Case files for prosecution: MG forms pre-filled from what Concord holds, readiness, submissions."""
