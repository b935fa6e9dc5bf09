"""The numbered ClickHouse migrations, shipped as package data and applied in order by storage.migrations."""
