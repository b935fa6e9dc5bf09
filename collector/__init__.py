"""Teller collector: ingest service, CLI, settings and storage."""
