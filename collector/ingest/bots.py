"""Bot and crawler detection from the user-agent string."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from crawlerdetect.crawlerdetect import get_compiled_crawler_regex, get_compiled_exclusions_regex
from crawlerdetect.providers.crawlers import data as _CRAWLER_PATTERNS
from crawlerdetect.providers.exclusions import data as _EXCLUSION_PATTERNS

from collector.ingest.useragent import UNKNOWN, parse_user_agent

MIN_UA_LENGTH = 8
MAX_UA_LENGTH = 512

# Checked in this order before the crawler list; the first that matches names the rule.
_EARLY_RULES: tuple[tuple[str, str], ...] = (
    # Automation and tooling that should never count as a visit.
    ("tool", r"HeadlessChrome|PhantomJS|python-requests|curl/|wget|Go-http-client|Lighthouse|Playwright|Selenium"),
    # What no browser writes into its user agent but monitors, scanners and crawlers of the long tail do: a URL
    # ("+https://sitebulb.com"), a mail address, or a token of their own inside Chrome's "(KHTML, like Gecko)".
    # Of the 34,505 browser UAs in device-detector's fixtures this matched 1 (an embedded IE naming its vendor's
    # site). The "@" needs a letter after it: Ecosia writes "android@62.0".
    ("tell", r"https?://|\+https?:|\bwww\.|[\w.+-]@[a-z][\w-]*\.[a-z]{2,}|\[at\]|\(KHTML, like Gecko; "),
)
# Tokens of a rendering engine, a browser platform or a feature-phone browser stack. A user agent with none of
# them whose browser the user-agent parser cannot name (family "Other") is no browser at all and no app:
# "munin/http_loadtime", "Arachni/v1.5.1", "Mozilla/5.0 (compatible; Detectify)", "ScamadviserExternalHit/1.0".
# The tokens keep the old and rare browsers the parser does not know: PlayStation and Nintendo consoles, MAUI,
# UP.Browser and DoCoMo phones, Android builds that write "Browser/AppleWebKit533.1".
_BROWSER_TOKENS: tuple[tuple[str, str], ...] = (
    (
        "browser",
        r"AppleWebKit|Gecko/\d|KHTML|Presto/|Trident/|"
        r"\((?:Windows|Macintosh|X11|Linux|iPhone|iPad|PlayStation|PS3|Nintendo|SmartHub|Web0S|Mobile)|"
        r"MIDP|CLDC|UP\.Browser|MAUI|NetFront|DoCoMo/|WAP[- ]?Browser|Obigo|BREW|Dorado|Android/\d",
    ),
)
# The device model of an Android platform token ("Linux; Android 8.1.0; XBot_Senior Build/O11019"): phone and
# tablet names (XBot, C Bot Tab, Spider 8, CRONY-7021, OPPO A33m) trip crawlerdetect's generic patterns, so
# the model is left out of the crawler match. This kept 15 browser UAs of device-detector's fixtures and lost
# no bot of either bot corpus (loadtests/bot_accuracy.py).
_ANDROID_MODEL = re.compile(
    r"(\(Linux; (?:U; )?Andr[o0]id[ /][\d.]*; (?:[a-z]{2}[-_][a-z]{2,3}; ?)?)[^;)]*", re.IGNORECASE
)
_LOOKAROUND = re.compile(r"\(\?<?[=!]")


def _first_chars(pattern: str) -> str | None:
    """The characters a match of a pattern can begin with, or None when the pattern's start is not that simple."""
    group = re.match(r"\(([^()|]*)\)\?", pattern)
    if group:
        inner, rest = _first_chars(group.group(1)), _first_chars(pattern[group.end() :])
        return None if inner is None or rest is None else inner + rest
    if pattern.startswith("\\") and len(pattern) > 1 and not pattern[1].isalnum():
        return pattern[1]
    bracket = re.match(r"\[([^\]\\^-]+)\]", pattern)
    if bracket:
        return bracket.group(1)
    return pattern[0] if pattern and (pattern[0].isalnum() or pattern[0] in ' ;"') else None


def _exclusions() -> re.Pattern[str]:
    """crawlerdetect's exclusion alternation, behind a lookahead for the characters its patterns begin with."""
    # Python's re tries all 52 alternatives at every position of a case-insensitive alternation: ~270-400 us
    # for a 512-character string, ~4x less behind a one-character-class lookahead. The same substitution.
    original = get_compiled_exclusions_regex()
    starts = [_first_chars(pattern) for pattern in _EXCLUSION_PATTERNS]
    if not starts or None in starts:
        return original
    first = "".join(sorted({c for chars in starts if chars for c in chars.lower()}))
    return re.compile(f"(?=[{re.escape(first)}])(?:{original.pattern})", original.flags)


# Browser tokens crawlerdetect removes before matching, so that e.g. "Safari" cannot trip a pattern.
_EXCLUSIONS = _exclusions()


def _python_matcher() -> Callable[[str], bool]:
    """Return crawlerdetect's own matcher: one 1,462-way case-insensitive alternation."""
    search = get_compiled_crawler_regex().search
    return lambda text: search(text) is not None


def _native_matcher() -> Callable[[str], bool] | None:
    """Return a matcher running the crawlerdetect patterns on the Rust regex set of ua-parser-rs."""
    # Measured per call after exclusions: ~0.7-1.0 us here versus 90-400 us for the Python
    # alternation; building it takes ~0.12 s and ~27 MiB. ua_parser_rs is an accelerator without a
    # stability promise, hence the fallback; tests check both matchers agree on a pattern-derived corpus.
    try:
        import ua_parser_rs

        native = ua_parser_rs.DeviceExtractor(
            [(p, "i", "bot", None, None) for p in _CRAWLER_PATTERNS if not _LOOKAROUND.search(p)]
        )
    except Exception:
        return None
    extract = native.extract
    # The Rust engine has no lookaround; the few such patterns (one today) stay in Python.
    leftover = [p for p in _CRAWLER_PATTERNS if _LOOKAROUND.search(p)]
    if not leftover:
        return lambda text: extract(text) is not None
    search = re.compile("|".join(leftover), re.IGNORECASE).search
    return lambda text: extract(text) is not None or search(text) is not None


def _first_rule(rules: Sequence[tuple[str, str]]) -> Callable[[str], str | None]:
    """Return a function naming the first (name, case-insensitive pattern) rule a text matches, or None."""
    # Python's re tries each alternative at each position: the tool alternation alone took ~15 us on a
    # 130-character browser UA; the Rust set answers all rules in ~1 us.
    try:
        import ua_parser_rs

        extract = ua_parser_rs.DeviceExtractor([(pattern, "i", name, None, None) for name, pattern in rules]).extract
    except Exception:
        compiled = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in rules]
        return lambda text: next((name for name, regex in compiled if regex.search(text)), None)

    def native(text: str) -> str | None:
        found = extract(text)
        return None if found is None else found.family

    return native


_is_crawler = _native_matcher() or _python_matcher()
_early_rule = _first_rule(_EARLY_RULES)
_has_browser_token = _first_rule(_BROWSER_TOKENS)


def _crawler(ua: str) -> bool:
    """crawlerdetect's verdict: a crawler pattern matches what is left after its browser tokens are removed."""
    model = _ANDROID_MODEL.search(ua)
    text = ua if model is None else ua[: model.end(1)] + ua[model.end() :]
    # The exclusion pass is a ~30 us Python substitution; removing text almost never creates a match, so it
    # runs only when the whole string matches (25 of 34,505 browser UAs did; same verdicts on all corpora).
    if not _is_crawler(text):
        return False
    rest = _EXCLUSIONS.sub("", text)
    return bool(rest) and _is_crawler(rest)


def _names_no_client(ua: str) -> bool:
    """Tell whether a user agent has no browser token and the parser knows no browser or app by its name."""
    if _has_browser_token(ua):
        return False
    # Reached rarely (browsers carry engine tokens); the parse is the one put_user_agent caches.
    family = parse_user_agent(ua).browser
    return not family or family == UNKNOWN


def bot_rule(ua: str) -> str | None:
    """The first rule an already stripped and truncated user agent breaks, or None for a browser; uncached."""
    if len(ua) < MIN_UA_LENGTH:
        return "short"
    early = _early_rule(ua)
    if early is not None:
        return early
    if _crawler(ua):
        return "crawler"
    if _names_no_client(ua):
        return "no_client"
    return None


@lru_cache(maxsize=10_000)
def _is_bot(ua: str) -> bool:
    """Cached bot_rule verdict."""
    # `python -m loadtests.bot_accuracy` measures a miss and a hit (docs/performance.md).
    return bot_rule(ua) is not None


def is_bot(user_agent: str) -> bool:
    """Tell whether a user agent is a crawler, headless browser, HTTP library or otherwise implausible."""
    # Truncation bounds the cache memory and the regex work for absurd inputs.
    return _is_bot(user_agent.strip()[:MAX_UA_LENGTH])
