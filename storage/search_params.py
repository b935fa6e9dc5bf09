"""Which query parameters carry a site's search terms: the stored setting and what it stands for."""

import re
from functools import lru_cache

DEFAULT_SEARCH_PARAMS = ("q", "query", "s", "search", "searchword", "k", "keyword", "sok", "søk")
NO_SEARCH_PARAMS = "-"
MAX_SEARCH_PARAMS = 20
MAX_PARAM_NAME = 64

_PARAM_NAME = re.compile(r"^[^\s=&#?%+]+$")
_UTM_PREFIX = "utm_"


def parse_search_params(value: str) -> str:
    """Validate a comma-separated list of parameter names into its stored form; ValueError if invalid.

    "" means the defaults, "-" means no URL capture at all.
    """
    text = value.strip()
    if text in ("", NO_SEARCH_PARAMS):
        return text
    names: list[str] = []
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            continue
        if len(name) > MAX_PARAM_NAME or not _PARAM_NAME.match(name):
            raise ValueError(f"not a valid query parameter name: {part.strip()!r}")
        if name.startswith(_UTM_PREFIX):
            raise ValueError(f"{name!r} is a campaign parameter and cannot carry search terms")
        if name not in names:
            names.append(name)
    if len(names) > MAX_SEARCH_PARAMS:
        raise ValueError(f"at most {MAX_SEARCH_PARAMS} search parameters")
    return ",".join(names)


@lru_cache(maxsize=1024)
def search_names(stored: str) -> frozenset[str]:
    """Lower-cased parameter names a site's stored setting stands for."""
    if stored == NO_SEARCH_PARAMS:
        return frozenset()
    if not stored:
        return frozenset(DEFAULT_SEARCH_PARAMS)
    return frozenset(stored.split(","))
