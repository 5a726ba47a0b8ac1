"""Runbook regression checks: every command and query in the runbook, executed and checked."""
