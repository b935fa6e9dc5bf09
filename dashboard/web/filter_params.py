"""The filter dialog's filters in the dashboard URL: one `f=operator,key,value,value` parameter each.

A comma or backslash inside a value is escaped with a backslash, so any value survives the round trip.
Clicked rows keep the shorter `key=value` form (an "is" filter with one value).
"""

from dashboard.panels import FILTER_KEYS, FILTER_LABELS, PROP_CONDITION_PREFIX, Condition
from dashboard.registry import MAX_PROP_KEY
from dashboard.translatable import N_
from dashboard.web.i18n import _

# The dialog's operators (Stats API names) and how chips read them.
OPERATORS: dict[str, str] = {
    "is": N_("is"),
    "is_not": N_("is not"),
    "contains": N_("contains"),
    "contains_not": N_("does not contain"),
}
MAX_CONDITIONS = 20
MAX_VALUES = 20
MAX_VALUE_LENGTH = 2000
MAX_PARAMETER_LENGTH = 20_000


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,")


def _split(text: str) -> list[str]:
    """Comma-separated parts, honouring backslash escapes."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def encode_condition(condition: Condition) -> str:
    """The `f` parameter of one filter."""
    operator, key, values = condition
    return ",".join([operator, key, *(_escape(value) for value in values)])


def decode_condition(text: str) -> Condition | None:
    """One `f` parameter as a filter, or None when it is not a valid one."""
    if len(text) > MAX_PARAMETER_LENGTH:
        return None
    parts = _split(text)
    if len(parts) < 3:
        return None
    operator, key, values = parts[0], parts[1], tuple(dict.fromkeys(parts[2:]))
    if operator not in OPERATORS or not known_key(key) or len(values) > MAX_VALUES:
        return None
    if any(len(value) > MAX_VALUE_LENGTH for value in values):
        return None
    return operator, key, values


def known_key(key: str) -> bool:
    """True for a filter key of the dialog or props:<key> (a custom property key the API accepts)."""
    if key.startswith(PROP_CONDITION_PREFIX):
        return 0 < len(key) - len(PROP_CONDITION_PREFIX) <= MAX_PROP_KEY
    return key in FILTER_KEYS


def key_label(key: str) -> str:
    """How a chip names a filter key, in the reader's language ("Property plan" for props:plan)."""
    if key.startswith(PROP_CONDITION_PREFIX):
        return _("Property %(key)s", key=key.removeprefix(PROP_CONDITION_PREFIX))
    return _(FILTER_LABELS[key])


def condition_from_api(item: object) -> Condition | None:
    """A saved [operator, key, [values]] filter as a dashboard filter, or None when it is not one."""
    if not isinstance(item, list) or len(item) != 3 or not isinstance(item[2], list):
        return None
    operator, key, values = item
    if not all(isinstance(value, str) for value in values) or not values:
        return None
    if not isinstance(operator, str) or not isinstance(key, str):
        return None
    return decode_condition(encode_condition((operator, key, tuple(values))))


def describe(condition: Condition) -> str:
    """A filter as words, e.g. Source is Google or Bing."""
    operator, key, values = condition
    shown = [value or _("(none)") for value in values]
    joined = shown[0]
    if len(shown) > 1:
        negated = operator in ("is_not", "contains_not")
        either = _("%(first)s nor %(last)s") if negated else _("%(first)s or %(last)s")
        joined = either % {"first": ", ".join(shown[:-1]), "last": shown[-1]}
    return _(
        "%(dimension)s %(operator)s %(values)s",
        dimension=key_label(key),
        operator=_(OPERATORS[operator]),
        values=joined,
    )
