"""The filter tree of a Stats API query and its SQL: leaves compare one dimension, nodes combine them.

Operators follow Plausible's Stats API v2: `is`, `is_not`, `contains`, `contains_not`, `matches`,
`matches_not`, each with one or more values (a positive operator matches when any value does, a negative
one when none does) and case-sensitive unless the filter says `{"case_sensitive": false}`. Nodes are
`["and", [...]]`, `["or", [...]]` and `["not", filter]`. The SQL runs alike on ClickHouse 18.16 and 26.x.
"""

import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Union

IS, IS_NOT, CONTAINS, CONTAINS_NOT, MATCHES, MATCHES_NOT = (
    "is",
    "is_not",
    "contains",
    "contains_not",
    "matches",
    "matches_not",
)
OPERATORS = (IS, IS_NOT, CONTAINS, CONTAINS_NOT, MATCHES, MATCHES_NOT)
NEGATIVE = {IS_NOT: IS, CONTAINS_NOT: CONTAINS, MATCHES_NOT: MATCHES}
AND, OR, NOT = "and", "or", "not"
NODE_OPERATORS = (AND, OR, NOT)


@dataclass(frozen=True)
class Filter:
    """One [operator, dimension, [values]] filter, optionally with {"case_sensitive": false}."""

    operator: str
    dimension: str
    values: tuple[str, ...]
    case_sensitive: bool = True

    def echo(self) -> list[Any]:
        """The filter as the API writes it."""
        modifiers = [] if self.case_sensitive else [{"case_sensitive": False}]
        return [self.operator, self.dimension, list(self.values), *modifiers]


@dataclass(frozen=True)
class FilterNode:
    """["and", [...]], ["or", [...]] or ["not", filter]: `not` has exactly one child."""

    operator: str
    children: tuple["FilterTree", ...]

    def echo(self) -> list[Any]:
        """The node as the API writes it."""
        if self.operator == NOT:
            return [NOT, self.children[0].echo()]
        return [self.operator, [child.echo() for child in self.children]]


FilterTree = Union[Filter, FilterNode]  # noqa: UP007 (a string forward reference above needs the alias)


def leaves(filters: Iterable[FilterTree]) -> list[Filter]:
    """Every leaf of the trees, in order."""
    found: list[Filter] = []
    for item in filters:
        if isinstance(item, FilterNode):
            found += leaves(item.children)
        else:
            found.append(item)
    return found


def filter_dimensions(filters: Iterable[FilterTree]) -> set[str]:
    """Every dimension the filter trees name."""
    return {leaf.dimension for leaf in leaves(filters)}


def filters_sql(
    filters: Iterable[FilterTree],
    column_of: Callable[[str], str],
    params: dict[str, Any],
    leaf_of: Callable[[Filter], str | None] | None = None,
) -> str:
    """A condition for the top-level filters (ANDed), "1" when there are none; values are bound in params.

    column_of(dimension) gives the SQL of a dimension on the rows being filtered; leaf_of(filter), when
    given, may give a leaf's whole condition instead (a goal filter is a condition, not a column).
    """
    parts = [_tree_sql(item, column_of, params, leaf_of) for item in filters]
    return " AND ".join(parts) if parts else "1"


def _tree_sql(
    item: FilterTree,
    column_of: Callable[[str], str],
    params: dict[str, Any],
    leaf_of: Callable[[Filter], str | None] | None = None,
) -> str:
    """Parenthesised SQL of one tree."""
    if isinstance(item, Filter):
        special = leaf_of(item) if leaf_of is not None else None
        return special if special is not None else leaf_sql(item, column_of(item.dimension), params)
    inner = [_tree_sql(child, column_of, params, leaf_of) for child in item.children]
    if item.operator == NOT:
        return f"(NOT {inner[0]})"
    return "(" + f" {item.operator.upper()} ".join(inner) + ")"


def leaf_sql(condition: Filter, column: str, params: dict[str, Any]) -> str:
    """Parenthesised SQL of one leaf on a column expression."""
    positive = NEGATIVE.get(condition.operator, condition.operator)
    negated = positive != condition.operator
    if positive == IS:
        # Both sides go through lowerUTF8 (not Python's lower()), so the engine's own case mapping decides.
        if condition.case_sensitive:
            sql = f"{column} {'NOT IN' if negated else 'IN'} {_bind(params, condition.values)}"
        else:
            values = ", ".join(f"lowerUTF8({_bind(params, value)})" for value in condition.values)
            sql = f"lowerUTF8({column}) {'NOT IN' if negated else 'IN'} ({values})"
        return f"({sql})"
    if positive == CONTAINS:
        function = "positionUTF8" if condition.case_sensitive else "positionCaseInsensitiveUTF8"
        tests = [f"{function}({column}, {_bind(params, value)}) > 0" for value in condition.values]
    else:
        # ClickHouse 18.16 pre-filters match() by a literal it reads out of the pattern, ignoring (?i): there
        # match('/blog/Hello', '(?i)hello') is 0. It reads no literal inside a group, so each pattern is one.
        prefix = "" if condition.case_sensitive else "(?i)"
        tests = [f"match({column}, {_bind(params, f'{prefix}(?:{value})')})" for value in condition.values]
    sql = " OR ".join(tests)
    return f"(NOT ({sql}))" if negated else f"({sql})"


def _bind(params: dict[str, Any], value: Any) -> str:
    """Bind a value under a name not used yet and return its placeholder."""
    index = len(params)
    while f"filter_{index}" in params:
        index += 1
    params[f"filter_{index}"] = value
    return f"%(filter_{index})s"


# ISO 3166-1 alpha-2: the officially assigned codes, and the user-assigned elements AA, QM-QZ, XA-XZ and
# ZZ (the geo database writes XK for Kosovo; ZZ commonly stands for an unknown country).
_ASSIGNED_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    YT ZA ZM ZW AA ZZ
"""
COUNTRY_CODES = frozenset(
    _ASSIGNED_CODES.split()
    + [f"Q{letter}" for letter in "MNOPQRSTUVWXYZ"]
    + [f"X{letter}" for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
)

# re2 (ClickHouse's match()) and Python's re read most patterns alike; what re2 refuses and Python accepts
# is caught below, each case checked against both engines in tests/dashboard/test_filters.py.
# Escapes, and flags set mid-pattern (a(?i)b), which Python refuses and re2 takes.
_FOR_PYTHON = re.compile(r"\\(?:[pP]\{[^}]*\}|[pP].?|.)|\(\?(?=[ims-]*[ims])[ims]*(?:-[ims]*)?\)", re.DOTALL)
_COUNTED = re.compile(r"\{(\d*)(,?)(\d*)\}")
_FLAGS = re.compile(r"([a-zA-Z-]*)[:)]")  # (?i), (?i:...), (?-s); not (?P<name>...)
_GROUP_PROBLEMS = (
    (("=", "!", "<=", "<!"), "lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported"),
    ((">",), "atomic groups ((?>...)) are not supported"),
    (("(",), "conditionals ((?(1)...)) are not supported"),
    (("P=",), "backreferences ((?P=name)) are not supported"),
    (("#",), "comments ((?#...)) are not supported"),
)
MAX_REPEAT = 1000  # re2's limit on {n,m}


def _python_equivalent(pattern: str) -> str:
    """The pattern with what only re2 takes (\\z, \\pL, \\p{Greek}, a(?i)b) swapped for what Python's re does."""

    def swap(match: re.Match[str]) -> str:
        found = match.group()
        if found.startswith("(?"):
            return "(?:)"  # an empty group: valid wherever the flags were, in a character class too
        if found == "\\z":
            return "\\Z"
        return "." if found[1] in "pP" else found

    return _FOR_PYTHON.sub(swap, pattern)


def regex_problem(pattern: str) -> str | None:
    """Why ClickHouse's match() (re2) would refuse a pattern, or None when it is fine."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" for [[:alpha:]], which re2 reads as POSIX
            re.compile(_python_equivalent(pattern))
    except (re.error, OverflowError, RecursionError) as error:
        return f"invalid regular expression: {error}"
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            problem = _escape_problem(pattern[index + 1])
            if problem:
                return problem
            index += 2
        elif char == "[":
            index, problem = _class_end(pattern, index)
            if problem:
                return problem
        elif pattern.startswith("(?", index):
            rest = pattern[index + 2 :]
            for starts, problem in _GROUP_PROBLEMS:
                if rest.startswith(starts):
                    return f"{problem} by re2"
            flags = _FLAGS.match(rest)
            unknown = sorted(set(flags[1]) - set("ims-")) if flags else []
            if unknown:
                return f"the flag (?{unknown[0]}) is not supported by re2 (only i, m and s)"
            index += 2
        elif char == "{" and (counted := _COUNTED.match(pattern, index)) and (counted[1] or counted[2]):
            if not counted[1]:
                return f"{counted[0]} is a repetition to Python but literal text to re2: write {{0{counted[0][1:]}"
            if max(int(counted[1] or 0), int(counted[3] or 0)) > MAX_REPEAT:
                return f"re2 repeats at most {MAX_REPEAT} times"
            index = counted.end()
            if pattern.startswith("+", index):
                return "possessive quantifiers ({n}+) are not supported by re2"
        elif char in "*+?" and pattern.startswith("+", index + 1):
            return f"possessive quantifiers ({char}+) are not supported by re2"
        else:
            index += 1
    return None


def _escape_problem(escaped: str) -> str | None:
    """Why re2 refuses an escape sequence (the character after the backslash), or None."""
    if escaped in "123456789":
        return f"backreferences (\\{escaped}) are not supported by re2"
    if escaped == "Z":
        return "\\Z is not supported by re2: use \\z or $"
    if escaped in "uUN":
        return f"\\{escaped} escapes are not supported by re2: use \\x{{...}}"
    return None


def _class_end(pattern: str, index: int) -> tuple[int, str | None]:
    """Index after the character class starting at index, and why re2 refuses an escape in it."""
    index += 1
    if pattern.startswith("^", index):
        index += 1
    if pattern.startswith("]", index):
        index += 1
    while index < len(pattern) and pattern[index] != "]":
        if pattern[index] == "\\":
            escaped = pattern[index + 1]
            if escaped in "ZuUN":
                return index, _escape_problem(escaped)
            index += 2
        elif pattern.startswith("[:", index) and (end := pattern.find(":]", index + 2)) != -1:
            index = end + 2  # a POSIX class such as [:alpha:] inside the brackets
        else:
            index += 1
    return index + 1, None
