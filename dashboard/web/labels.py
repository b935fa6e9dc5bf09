"""How a panel's values are shown: country names, labels for empty values, role names, in the reader's language."""

from dashboard.translatable import N_
from dashboard.web.i18n import _, babel_locale, current

ROLE_LABELS = {"admin": N_("admin"), "viewer": N_("viewer")}
# Values the Stats API itself names (dashboard/registry.py): shown translated, filtered by as they are.
API_VALUE_LABELS = {"Direct / None": N_("Direct / None"), "(not set)": N_("(not set)")}


def country_name(code: str) -> str:
    """Name of an ISO country code in the reader's language, from CLDR through Babel (the code when unknown)."""
    if len(code) != 2 or not code.isalpha():
        return code
    return babel_locale(current()).territories.get(code.upper(), code)


def role_label(role: str) -> str:
    """A user role's name."""
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def display_value(dimension: str, value: object, empty_label: str, min_count: int) -> str:
    """The text shown for a panel row's value."""
    if value is None:
        return _("Other terms (each searched fewer than %(count)s times)", count=min_count)
    text = str(value)
    if text == "":
        return _(empty_label)
    if dimension == "visit:country":
        return country_name(text)
    return _(API_VALUE_LABELS[text]) if text in API_VALUE_LABELS else text
