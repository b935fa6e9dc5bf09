"""The dashboard language each user chose, by e-mail (schemas/0017_user_language.sql)."""

from storage.local_changes import LocalChanges
from storage.store import Store
from storage.versioned import VersionedTable

USER_LANGUAGES = VersionedTable("user_languages", key="email")
# Every change by e-mail, for this process's cache of preferences.
LANGUAGE_CHANGES = LocalChanges()
MAX_LANGUAGE = 16


def set_language(store: Store, email: str, language: str) -> None:
    """Store a user's chosen language ("" forgets the choice)."""
    if len(language) > MAX_LANGUAGE:
        raise ValueError("language code too long")
    USER_LANGUAGES.insert(store, email=email.strip().lower(), language=language)
    LANGUAGE_CHANGES.announce(email.strip().lower())


def language_of(store: Store, email: str) -> str:
    """The language a user chose, or "" when they never chose one."""
    rows = store.query(USER_LANGUAGES.latest("language", where="email = %(e)s"), {"e": email.strip().lower()})
    return rows[0][1] if rows else ""
