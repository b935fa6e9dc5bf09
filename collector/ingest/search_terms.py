"""Site-search terms: which query parameters carry them, how they are normalised and scrubbed.

A term is counted in the search_terms table only; these helpers also cut it out of everything else
an event stores (the #fragment path of hash-routed sites, URL-valued props).
"""

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

MAX_TERM = 100
SEARCH_EVENT = "search"


# Full dates with a year (birth dates are a classic quasi-identifier next to a name).
_DATE = re.compile(
    r"(?<!\d)(?:\d{1,2}[./-]\d{1,2}[./-](?:1[89]|20)\d\d|(?:1[89]|20)\d\d[./-]\d{1,2}[./-]\d{1,2})(?!\d)"
)
# A digit run: digits joined by single spaces, dots or hyphens, an optional "+" or "00" prefix and
# "(area code)" parentheses. Each repetition consumes a digit, so matching stays linear.
_DIGIT_RUN = re.compile(r"\(?(\+|(?<!\d)00)?\(?\d(?:(?:[ .\-–]|\) ?| ?\()?\d)*")
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_CUT_PLACEHOLDER = re.compile(r"\[[a-z]*$")


@dataclass(frozen=True, slots=True)
class Search:
    """What one event adds to the search_terms row of its site, day and term."""

    term: str
    searches: int
    zero_results: int


def _decode(text: str) -> str:
    """Percent- and plus-decode a query component: UTF-8, else Latin-1 (old ISO-8859-1 search forms)."""
    if "%" not in text and "+" not in text:
        return text
    raw = unquote_to_bytes(text.replace("+", " "))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _is_search_key(pair: str, names: frozenset[str]) -> bool:
    """True when a name=value pair's name is one of the search parameters."""
    return _decode(pair.partition("=")[0]).lower() in names


def term_in_query(query: str, names: frozenset[str]) -> str | None:
    """Decoded value of the first search parameter with a non-blank value in a query string."""
    if not query or not names:
        return None
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if value and _decode(key).lower() in names:
            term = _decode(value)
            if term.strip():
                return term
    return None


def _strip_query(part: str, names: frozenset[str]) -> str:
    """One URL part ("path?query") without its search parameters; unchanged when it has none."""
    head, mark, query = part.partition("?")
    if not mark:
        return part
    pairs = query.split("&")
    kept = [pair for pair in pairs if not _is_search_key(pair, names)]
    if len(kept) == len(pairs):
        return part
    return head + "?" + "&".join(kept) if kept else head


def strip_search_params(url: str, names: frozenset[str]) -> str:
    """A URL or path without search parameters, in its query and in its #fragment's query."""
    if not names or "?" not in url:
        return url
    base, hash_mark, fragment = url.partition("#")
    return _strip_query(base, names) + hash_mark + _strip_query(fragment, names)


def page_term(url: str, hash_mode: bool, names: frozenset[str]) -> str:
    """Normalised search term of a page URL's query (or, in hash mode, its #fragment's query), or ""."""
    if not names or "?" not in url:
        return ""
    base, _, fragment = url.partition("#")
    raw = term_in_query(base.partition("?")[2], names)
    if raw is None and hash_mode:
        raw = term_in_query(fragment.partition("?")[2], names)
    return normalise_term(raw) if raw else ""


def _result_count(value: str | None) -> int | None:
    """The non-negative result count of a search event, or None when absent or not a number."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if 0 <= number < 2**63 else None


def explicit_search(props: dict[str, str], url_term: str) -> Search | None:
    """The Search of a "search" event's props {term, results}, or None without a usable term.

    When the event's own URL carries the same term, the pageview of that URL already counted the
    search, so only a zero-result count is added.
    """
    term = normalise_term(props.get("term", ""))
    if not term:
        return None
    zero = 1 if _result_count(props.get("results")) == 0 else 0
    return Search(term, 0 if term == url_term else 1, zero)


def clean_props(keys: list[str], values: list[str], term: str, names: frozenset[str]) -> tuple[list, list]:
    """Props without the term: values holding all its words dropped, search parameters cut from URL values."""
    # Placeholders say nothing about the search, so only the term's own words are looked for.
    words = [word for word in term.split() if "[" not in word]
    kept_keys, kept_values = [], []
    for key, value in zip(keys, values, strict=True):
        if words:
            lowered = (value if value.isascii() else unicodedata.normalize("NFKC", value)).lower()
            if all(word in lowered for word in words):
                continue
        if value.startswith(("http://", "https://", "/")):
            value = strip_search_params(value, names)
        kept_keys.append(key)
        kept_values.append(value)
    return kept_keys, kept_values


def _visible(text: str) -> str:
    """Drop control and format characters (zero-width spaces, soft hyphens); keep whitespace."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text if ch.isprintable() or ch.isspace())


def _digit_placeholder(match: re.Match[str]) -> str:
    """[phone], [id] or [number] for a digit run that could identify a person; short runs stay."""
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    groups = re.split(r"\D+", text.strip("+()"))
    if len(groups) > 1 and all(_YEAR.fullmatch(group) for group in groups):
        return text  # "2023-2024", "budsjett 2023 2024"
    if match.group(1) and 7 <= digits <= 15:
        placeholder = "[phone]"
    elif digits < 7:
        return text
    elif digits == 8 or ("(" in text and digits <= 12):
        placeholder = "[phone]"  # Norwegian numbers have 8 digits
    elif digits == 11:
        placeholder = "[id]"  # fødselsnummer, D-number; bank account numbers have 11 digits too
    else:
        placeholder = "[number]"
    # A leading "(" with no ")" after it is ordinary punctuation, not an area code.
    if text.startswith("(") and ")" not in text:
        return "(" + placeholder
    return placeholder


def scrub(term: str) -> str:
    """Replace e-mail addresses, dates, phone, identity and other long numbers with placeholders."""
    if "@" in term:
        # Any space-free token with text on both sides of an "@" counts as an e-mail address.
        term = " ".join("[email]" if "@" in token[1:-1] else token for token in term.split(" "))
    if any(ch.isdigit() for ch in term):
        term = _DATE.sub("[date]", term)
        term = _DIGIT_RUN.sub(_digit_placeholder, term)
    return term


def normalise_term(raw: str, limit: int = MAX_TERM) -> str:
    """NFKC, visible characters, lower case, single spaces, personal data scrubbed, at most limit chars."""
    text = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)
    text = " ".join(_visible(text).lower().split())
    if not text:
        return ""
    text = scrub(text)
    if len(text) > limit:
        text = _CUT_PLACEHOLDER.sub("", text[:limit]).rstrip()
    return text
