"""Load tests and the side-by-side benchmark of the ingest path."""
