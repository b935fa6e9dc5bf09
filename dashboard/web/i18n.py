"""The dashboard's languages: gettext catalogues in dashboard/locale, the reader's choice, and Babel formatting.

The catalogues ship as .po files and are compiled in memory on first use, so a plain `pip install`, the
Docker image and an editable checkout all read the same files and no build step can be forgotten.
"""

import gettext as gettext_module
import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
# Language code → its name in itself, as the language switch shows it.
LANGUAGES: dict[str, str] = {"en": "English", "nb": "Norsk bokmål"}
# Accept-Language tags that mean bokmål: "no" and "nn" readers read bokmål better than English.
_ALIASES = {"no": "nb", "nb": "nb", "nn": "nb", "en": "en"}
MAX_ACCEPT_LANGUAGE = 500

_current: ContextVar[str] = ContextVar("teller_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The compiled catalogue of a language (English is the source text and has none)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT_LANGUAGE or not path.exists():
        return gettext_module.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def activate(language: str) -> str:
    """Make language the one this request's text and numbers are shown in; return it."""
    chosen = language if language in LANGUAGES else DEFAULT_LANGUAGE
    _current.set(chosen)
    return chosen


def current() -> str:
    """The language of the request being answered."""
    return _current.get()


def gettext(message: str) -> str:
    """message in the current language."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for n, in the current language."""
    return translations(current()).ngettext(singular, plural, n)


def _(message: str, **values: Any) -> str:
    """message in the current language, with %(name)s placeholders filled in."""
    text = gettext(message)
    return text % values if values else text


def from_accept_language(header: str | None) -> str:
    """The best of LANGUAGES for an Accept-Language header (q-values respected), else English."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for part in (header or "")[:MAX_ACCEPT_LANGUAGE].split(","):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        language = _ALIASES.get(tag.strip().lower().split("-")[0])
        # Strictly greater: of two equal q-values the earlier tag wins, as the header lists them in order.
        if language and q > best_q:
            best, best_q = language, q
    return best


def choose(preference: str | None, accept_language: str | None) -> str:
    """A user's saved preference, else the browser's Accept-Language."""
    if preference in LANGUAGES:
        return preference  # type: ignore[return-value]
    return from_accept_language(accept_language)


@cache
def babel_locale(language: str) -> Locale:
    """The CLDR locale numbers and dates are formatted with."""
    return Locale.parse(language)
