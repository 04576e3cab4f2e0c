"""A small inventory service (sample project for policy-gate)."""
