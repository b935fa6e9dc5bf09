"""Dashboard users on both engines: every change is a new row version, which is what sessions are bound to."""

from storage.store import Store
from storage.users import USER_CHANGES, add_user, get_user, remove_user, set_password, set_role


class Listener:
    """Collects the e-mails a change is announced for."""

    def __init__(self) -> None:
        self.changed: list[str] = []

    def heard(self, email: str) -> None:
        """Note one announcement."""
        self.changed.append(email)


def test_every_change_is_a_newer_version_and_is_announced(store: Store) -> None:
    listener = Listener()
    USER_CHANGES.listen(listener.heard)
    add_user(store, "Editor@Example.com", "correct horse battery", "viewer")
    versions = [get_user(store, "editor@example.com").version]
    set_password(store, "editor@example.com", "another long password")
    versions.append(get_user(store, "editor@example.com").version)
    set_role(store, "editor@example.com", "viewer")  # no change, no new version: the sessions stay
    versions.append(get_user(store, "editor@example.com").version)
    set_role(store, "editor@example.com", "admin")
    versions.append(get_user(store, "editor@example.com").version)
    remove_user(store, "editor@example.com")
    assert get_user(store, "editor@example.com") is None
    add_user(store, "editor@example.com", "correct horse battery", "viewer")
    versions.append(get_user(store, "editor@example.com").version)
    assert versions[0] < versions[1] == versions[2] < versions[3] < versions[4]
    assert listener.changed == ["editor@example.com"] * 5
