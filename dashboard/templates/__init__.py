"""Jinja2 templates of the dashboard (package data)."""
