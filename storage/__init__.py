"""ClickHouse storage: one module per engine, the SQL escaper, migrations and shared state."""
