"""Acquisition channels (`visit:channel`) as Plausible decides them, as one ClickHouse expression and in Python.

Rules: Plausible's lib/plausible/ingestion/acquisition.ex (get_channel_lowered and its helpers), which follows
Google Analytics 4's default channel grouping. The channel is computed at read time from columns every events,
visits and rollup row already holds, so rows stored before this module existed get one too.
"""

from __future__ import annotations

import re
from pathlib import Path

from storage.sql import quote
from storage.value_names import DIRECT_SOURCE, SOURCE_NAMES, source_sql

SOURCES_FILE = Path(__file__).with_name("channel_sources.tsv")

SEARCH = "SEARCH"
SOCIAL = "SOCIAL"
VIDEO = "VIDEO"
SHOPPING = "SHOPPING"
EMAIL = "EMAIL"
AI_ASSISTANTS = "AI_ASSISTANTS"

# acquisition.ex @custom_source_categories: Plausible's own additions to the GA4 list.
CUSTOM_SOURCE_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("hacker news", SOCIAL),
    ("yahoo!", SEARCH),
    ("gmail", EMAIL),
    ("telegram", SOCIAL),
    ("slack", SOCIAL),
    ("producthunt", SOCIAL),
    ("github", SOCIAL),
    ("steamcommunity.com", SOCIAL),
    ("statics.teams.cdn.office.net", SOCIAL),
    ("vkontakte", SOCIAL),
    ("threads", SOCIAL),
    ("ecosia", SEARCH),
    ("brave", SEARCH),
    ("temu.com", SHOPPING),
    ("discord", SOCIAL),
    ("sogou", SEARCH),
    ("microsoft teams", SOCIAL),
    ("bluesky", SOCIAL),
    ("mastodon", SOCIAL),
    ("chatgpt", AI_ASSISTANTS),
    ("chatgpt.com", AI_ASSISTANTS),
    ("claude", AI_ASSISTANTS),
    ("phind", AI_ASSISTANTS),
    ("deepseek", AI_ASSISTANTS),
    ("copilot", AI_ASSISTANTS),
    ("grok", AI_ASSISTANTS),
    ("google gemini", AI_ASSISTANTS),
    ("perplexity", AI_ASSISTANTS),
    ("x (twitter)", SOCIAL),
)

# Plausible.Ingestion.Source @paid_sources: the keys of priv/custom_sources.json ending in "ads" or "ad", plus
# "adwords". tests/storage/test_channels.py checks the list against collector/ingest/sources.tsv.
PAID_SOURCES: frozenset[str] = frozenset(
    {
        "adwords",
        "fb-ads",
        "fbads",
        "fbad",
        "facebook-ads",
        "facebook_ads",
        "facebook_ad",
        "facebook_feed_ad",
        "yt-ads",
        "reddit-ads",
        "google_ads",
        "google-ads",
        "googleads",
        "gads",
        "google ads",
        "twitter-ads",
        "tiktokads",
    }
)

# acquisition.ex display?/1, organic_social?/2, referral?/2 and @email_tags.
DISPLAY_MEDIUMS = ("display", "banner", "expandable", "interstitial", "cpm")
SOCIAL_MEDIUMS = ("social", "social-network", "social-media", "sm", "social network", "social media")
REFERRAL_MEDIUMS = ("referral", "app", "link")
EMAIL_TAGS = ("email", "e-mail", "e_mail", "e mail", "newsletter")
# acquisition.ex paid_medium?/1 and shopping_campaign?/1; RE2 (ClickHouse) and Python's re read them alike.
PAID_MEDIUM = r"^(.*cp.*|ppc|retargeting|paid.*)$"
SHOPPING_CAMPAIGN = r"^(.*(([^a-df-z]|^)shop|shopping).*)$"
_EMAIL = "|".join(EMAIL_TAGS)  # no tag holds a regex metacharacter
_PUSH = "push$"
_MOBILE_PUSH = "mobile|notification"

DIRECT = "Direct"


def _load_categories() -> dict[str, str]:
    """The GA4 list under Plausible's custom categories, a later row winning as in acquisition.ex's Enum.into."""
    categories = dict(CUSTOM_SOURCE_CATEGORIES)
    for line in SOURCES_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            source, category = line.split("\t")
            categories[source] = category
    return categories


SOURCE_CATEGORIES: dict[str, str] = _load_categories()


def source_category(source: str) -> str:
    """The category (SEARCH, SOCIAL, ...) of a source name, "" when the list has none."""
    return SOURCE_CATEGORIES.get(source.lower(), "")


def channel(source: str, utm_medium: str = "", utm_source: str = "", utm_campaign: str = "") -> str:
    """The channel of one visit, in Python: acquisition.ex get_channel without the click-id rules."""
    source = "" if source == DIRECT_SOURCE else SOURCE_NAMES.get(source, source).lower()
    medium, tagged, campaign = utm_medium.lower(), utm_source.lower(), utm_campaign.lower()
    category = SOURCE_CATEGORIES.get(source, "")
    paid_medium = re.match(PAID_MEDIUM, medium) is not None
    paid_source = tagged in PAID_SOURCES
    shopping = category == SHOPPING or re.match(SHOPPING_CAMPAIGN, campaign) is not None
    rules = (
        ("cross-network" in campaign, "Cross-network"),
        (shopping and paid_medium, "Paid Shopping"),
        (category == SEARCH and (paid_medium or paid_source), "Paid Search"),
        (category == SOCIAL and (paid_medium or paid_source), "Paid Social"),
        (category == VIDEO and (paid_medium or paid_source), "Paid Video"),
        (medium in DISPLAY_MEDIUMS, "Display"),
        (paid_medium, "Paid Other"),
        (shopping, "Organic Shopping"),
        (category == SOCIAL or medium in SOCIAL_MEDIUMS, "Organic Social"),
        (category == VIDEO or "video" in medium, "Organic Video"),
        (category == AI_ASSISTANTS, "AI Assistants"),
        (category == SEARCH, "Organic Search"),
        (category == EMAIL or re.search(_EMAIL, tagged) is not None or re.search(_EMAIL, medium) is not None, "Email"),
        (medium == "affiliate", "Affiliates"),
        (medium == "audio", "Audio"),
        (tagged == "sms" or medium == "sms", "SMS"),
        (
            medium.endswith("push") or re.search(_MOBILE_PUSH, medium) is not None or source == "firebase",
            "Mobile Push Notifications",
        ),
        (medium in REFERRAL_MEDIUMS or source != "", "Referral"),
    )
    return next((name for matched, name in rules if matched), DIRECT)


def _array(values: tuple[str, ...] | list[str] | frozenset[str]) -> str:
    """A constant String array literal."""
    return "[" + ", ".join(quote(value) for value in sorted(values)) + "]"


def _category_sql(source: str) -> str:
    """ClickHouse: the category of an already lowercased source, one hash lookup (transform) per row."""
    # The input is lowercased, so the GA4 list's few mixed-case keys could never match.
    keys = sorted(key for key in SOURCE_CATEGORIES if key == key.lower())
    values = [SOURCE_CATEGORIES[key] for key in keys]
    return f"transform({source}, {_array(keys)}, [{', '.join(quote(value) for value in values)}], '')"


def channel_sql(
    source: str, utm_medium: str, utm_source: str, utm_campaign: str, referrer_host: str | None = None
) -> str:
    """ClickHouse expression of `visit:channel` from column expressions, valid on 18.16 and 26.x.

    referrer_host is accepted so callers can pass the same columns for every table; Plausible decides the
    channel from the source alone, and the stored source already reflects the referrer.
    """
    del referrer_host
    # Elixir's String.downcase is Unicode-aware, hence lowerUTF8; old rows' source names are renamed first.
    inputs = (
        f"lowerUTF8({source_sql(source, direct='')})",
        f"lowerUTF8(toString({utm_medium}))",
        f"lowerUTF8(toString({utm_source}))",
        f"lowerUTF8(toString({utm_campaign}))",
    )
    paid_medium = f"match(ch_medium, {quote(PAID_MEDIUM)})"
    paid = f"({paid_medium} OR has({_array(PAID_SOURCES)}, ch_tag))"
    shopping = f"(ch_category = 'SHOPPING' OR match(ch_campaign, {quote(SHOPPING_CAMPAIGN)}))"
    cases = (
        ("position(ch_campaign, 'cross-network') > 0", "Cross-network"),
        (f"{shopping} AND {paid_medium}", "Paid Shopping"),
        (f"ch_category = 'SEARCH' AND {paid}", "Paid Search"),
        (f"ch_category = 'SOCIAL' AND {paid}", "Paid Social"),
        (f"ch_category = 'VIDEO' AND {paid}", "Paid Video"),
        (f"has({_array(DISPLAY_MEDIUMS)}, ch_medium)", "Display"),
        (paid_medium, "Paid Other"),
        (shopping, "Organic Shopping"),
        (f"ch_category = 'SOCIAL' OR has({_array(SOCIAL_MEDIUMS)}, ch_medium)", "Organic Social"),
        ("ch_category = 'VIDEO' OR position(ch_medium, 'video') > 0", "Organic Video"),
        ("ch_category = 'AI_ASSISTANTS'", "AI Assistants"),
        ("ch_category = 'SEARCH'", "Organic Search"),
        (
            f"ch_category = 'EMAIL' OR match(ch_tag, {quote(_EMAIL)}) OR match(ch_medium, {quote(_EMAIL)})",
            "Email",
        ),
        ("ch_medium = 'affiliate'", "Affiliates"),
        ("ch_medium = 'audio'", "Audio"),
        ("ch_tag = 'sms' OR ch_medium = 'sms'", "SMS"),
        (
            f"match(ch_medium, {quote(_PUSH)}) OR match(ch_medium, {quote(_MOBILE_PUSH)}) OR ch_source = 'firebase'",
            "Mobile Push Notifications",
        ),
        (f"has({_array(REFERRAL_MEDIUMS)}, ch_medium) OR ch_source != ''", "Referral"),
    )
    body = "multiIf(" + ", ".join(f"{condition}, {quote(name)}" for condition, name in cases) + f", {quote(DIRECT)})"
    # A one-element arrayMap binds each input to a name once (18.16 has no expression-level WITH), so the
    # 800-key category lookup appears once in the SQL; transform looks constant arrays up by hash.
    arrays = ", ".join(f"[{value}]" for value in (*inputs, _category_sql(inputs[0])))
    return f"arrayElement(arrayMap((ch_source, ch_medium, ch_tag, ch_campaign, ch_category) -> {body}, {arrays}), 1)"
