"""The dashboard's web UI: server-rendered pages, forms and exports behind logins and share links."""
