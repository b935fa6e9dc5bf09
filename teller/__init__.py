"""The Teller application: settings, the ASGI app, the CLI, background jobs and metrics."""
