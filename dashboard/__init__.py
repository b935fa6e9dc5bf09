"""Teller dashboard: statistics queries, the stats API and the web UI."""
