"""drillbook: prove that runbooks work."""
