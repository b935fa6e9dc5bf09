"""Typed settings for every Teller process, read from TELLER_* environment variables."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """All of Teller's settings; each field is documented in docs/settings.md."""

    model_config = SettingsConfigDict(env_prefix="TELLER_", env_file=None, extra="ignore")

    data_dir: Path = Field(Path("data"), description="Directory for the embedded database and local state.")
    clickhouse_url: str = Field(
        "",
        description="Empty for the embedded engine in the data dir; clickhouse://user:pass@host:9000/db "
        "selects a ClickHouse server.",
    )
    clickhouse_cluster: str = Field(
        "",
        description="Name of a cluster in the ClickHouse servers' remote_servers: tables are sharded across it "
        "(see docs/cluster.md); empty for a single server.",
    )
    host: str = Field("127.0.0.1", description="Address `teller serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `teller serve` listens on.")
    flush_rows: int = Field(10_000, ge=1, description="Buffered rows that trigger a write to ClickHouse.")
    flush_interval: float = Field(1.0, gt=0, description="Seconds between writes of a non-empty buffer.")
    trusted_proxies: CommaList = Field(
        default_factory=list,
        description="Addresses or CIDRs whose X-Forwarded-For header is believed (comma-separated).",
    )
    sites: CommaList = Field(
        default_factory=list,
        description="Domains registered at startup if missing (comma-separated); `teller sites add` also works.",
    )
    timezone: str = Field("UTC", description="Time zone given to sites created without one.")
    referrer_spam: CommaList = Field(
        default_factory=list,
        description="Referrer hosts dropped as spam on every site, besides the shipped list (comma-separated); "
        "subdomains match too.",
    )
    max_body_bytes: int = Field(65_536, ge=1024, description="Largest accepted body of one event, in bytes.")
    max_batch_events: int = Field(1_000, ge=1, description="Most events accepted in one POST /api/events.")
    max_batch_bytes: int = Field(
        1 << 20, ge=1024, description="Largest accepted body of one POST /api/events, in bytes."
    )
    site_refresh_interval: float = Field(
        10.0, gt=0, description="Seconds between reloads of sites and salts shared through ClickHouse."
    )
    search_min_count: int = Field(
        3, ge=1, description="Searches a term needs in the queried period to be listed on its own (k-anonymity)."
    )
    search_flush_interval: float = Field(
        3600.0,
        gt=0,
        description="Seconds between writes of the summed search counts; the write time is the finest time "
        "the search_terms table can reveal.",
    )
    visit_interval: float = Field(
        60.0, gt=0, description="Seconds between runs of the job that stores closed visits and their rollup."
    )
    visit_settle: int = Field(
        60, ge=0, description="Seconds an event may take to reach ClickHouse; visits close this much later."
    )
    spool_dir: Path | None = Field(
        None, description="Directory of the write-ahead spool; empty means <data dir>/spool."
    )
    spool_max_bytes: int = Field(
        1 << 30, ge=1 << 20, description="Largest size of the spool; when full, ingest answers 503."
    )
    spool_fsync: str = Field(
        "interval",
        pattern="^(never|interval|always)$",
        description="fsync of the spool: never, at every flush (interval), or for every request (always).",
    )
    rate_limit: float = Field(
        200.0, ge=0, description="Ingest requests per second allowed from one /24 or /48 network; 0 turns it off."
    )
    rate_limit_burst: float = Field(1000.0, ge=1, description="Requests one network may send in a burst.")
    retention_events_days: int = Field(30, ge=1, description="Days raw events (and per-visit rows) are kept.")
    retention_rollup_months: int = Field(25, ge=1, description="Months the hourly rollups are kept.")
    retention_search_months: int = Field(25, ge=1, description="Months the site-search aggregates are kept.")
    retention_interval: float = Field(3600.0, gt=0, description="Seconds between retention runs inside `teller serve`.")
    public_url: str = Field(
        "",
        description="Address editors and websites reach Teller at, e.g. https://stats.example.com; used in snippets "
        "and share links, and https:// marks the session cookie Secure.",
    )
    controller_name: str = Field(
        "",
        max_length=200,
        description="Who is responsible for the statistics (the controller), named in the privacy text.",
    )
    controller_email: str = Field(
        "", max_length=200, description="Where visitors send requests about their data, named in the privacy text."
    )
    privacy_request_days: int = Field(
        30, ge=1, le=30, description="Days within which the privacy text promises to answer a visitor's request."
    )
    session_days: int = Field(14, ge=1, le=365, description="Days a dashboard login lasts.")
    workers: int = Field(
        1, ge=1, le=64, description="Worker processes of `teller serve` (server engine only; embedded runs one)."
    )
    log_format: str = Field("text", pattern="^(text|json)$", description="Log lines as plain text or JSON objects.")
    log_level: str = Field("info", description="Log level of the Teller process (debug, info, warning, error).")
    access_log: bool = Field(
        False,
        description="One log line per request from `teller serve`, the client shown as its truncated prefix "
        "(off by default: it added ~30 us of CPU to a ~90 us ingest request).",
    )
    smtp_host: str = Field("", description="SMTP server for e-mail reports and alerts; empty sends no e-mail.")
    smtp_port: int = Field(587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS (certificate checked).")
    smtp_ca_file: str = Field(
        "", description="PEM file of the CA that signed the SMTP server's certificate; empty: the system's CAs."
    )
    smtp_user: str = Field("", description="SMTP login name; empty for no login.")
    smtp_password: str = Field("", description="SMTP password.")
    smtp_from: str = Field("", description="From address of reports and alerts, e.g. Teller <stats@example.com>.")
    report_interval: float = Field(
        300.0, gt=0, description="Seconds between checks for due e-mail reports and traffic spikes."
    )

    @field_validator("trusted_proxies", "sites", "referrer_spam", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        """Accept a comma-separated string as well as a JSON list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def embedded(self) -> bool:
        """True when the embedded chdb engine is used."""
        return not self.clickhouse_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once from the environment."""
    return Settings()
