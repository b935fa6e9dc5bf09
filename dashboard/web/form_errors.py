"""Storage's refusals (English, as the CLI prints them) shown on a form in the reader's language."""

import re

from dashboard.translatable import N_
from dashboard.web.i18n import _

# The messages storage/sites.py and storage/users.py raise, each with its one variable part.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), message)
    for pattern, message in (
        (r"not a valid domain: (.*)", N_("Not a valid domain: %(value)s")),
        (r"unknown time zone: (.*)", N_("Unknown time zone: %(value)s")),
        (r"(.*) is not a registered site", N_("%(value)s is not a registered site")),
        (r"not an e-mail address: (.*)", N_("Not an e-mail address: %(value)s")),
        (
            r"the password must have at least (\d+) characters",
            N_("The password must have at least %(value)s characters"),
        ),
        (r"the password must have at most (\d+) characters", N_("The password must have at most %(value)s characters")),
        (r"the role must be one of (.*)", N_("The role must be one of %(value)s")),
        (r"(.*) already exists", N_("%(value)s already exists")),
        (r"no user (.*)", N_("There is no user %(value)s")),
    )
)


def form_error(error: Exception) -> str:
    """The refusal in the reader's language (as it is when it is not one of the known messages)."""
    text = str(error)
    for pattern, message in _MESSAGES:
        found = pattern.fullmatch(text)
        if found:
            return _(message, value=found.group(1))
    return text
