"""Per-request helpers for the ingest endpoint: client address, user agent, bots, referrer, country."""
