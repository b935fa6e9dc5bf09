"""The marker of text the dashboard shows in the reader's language: translated where it is rendered."""


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name, which `pybabel extract` looks for)
    """The message itself; `pybabel extract` collects it and dashboard/web/i18n.py translates it when shown."""
    return message
