"""Health, readiness and who-am-I."""
