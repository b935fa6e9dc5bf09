"""How a panel's values are shown: country names, labels for empty values."""

from babel import Locale

_ENGLISH = Locale.parse("en")


def country_name(code: str) -> str:
    """English name of an ISO country code, from CLDR through Babel (the code when unknown)."""
    return _ENGLISH.territories.get(code, code) if len(code) == 2 and code.isalpha() else code


def display_value(dimension: str, value: object, empty_label: str, min_count: int) -> str:
    """The text shown for a panel row's value."""
    if value is None:
        return f"Other terms (each searched fewer than {min_count} times)"
    text = str(value)
    if text == "":
        return empty_label
    if dimension == "visit:country":
        return country_name(text)
    return text
