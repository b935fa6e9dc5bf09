"""CSS, JavaScript and the icon of the dashboard, served by Teller itself (package data)."""
