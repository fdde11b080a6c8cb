"""Helpers for tests and benchmarks: real services, started and stopped locally."""
