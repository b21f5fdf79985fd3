"""All configuration, read once from FRONTYARD_* environment variables into one typed object."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from frontyard import PROJECT_ROOT

DEFAULT_DATA_DIR = PROJECT_ROOT / "var"


class Settings(BaseSettings):
    """Frontyard's settings; every field is documented in README.md (a test checks)."""

    model_config = SettingsConfigDict(env_prefix="FRONTYARD_", extra="ignore")

    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR,
        description="Folder for the SQLite database, the generated secret key and backups.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file in the data dir. "
        "PostgreSQL: `postgresql://user@host/db` (psycopg 3 is used).",
    )
    secret_key: str = Field(
        default="",
        description="Signs session cookies. Empty: generated on first run and kept in "
        "`<data_dir>/secret_key`.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public URL of the service, used in QR codes and pairing links. "
        "An https URL also marks cookies Secure.",
    )
    timezone: str = Field(default="Asia/Tokyo", description="The city's time zone.")
    default_locale: str = Field(default="ja", description="Language when nothing else decides.")
    retention_hours: int = Field(
        default=48,
        ge=1,
        description="Hours after a visit ends before its personal details are purged.",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per account and address before a lockout."
    )
    login_lockout_seconds: int = Field(
        default=900, ge=1, description="How long a login lockout lasts."
    )
    login_max_failures_per_address: int = Field(
        default=20, ge=1,
        description="Failed logins from one address, whatever the accounts, before a lockout.",
    )
    login_max_failures_per_account: int = Field(
        default=20, ge=1,
        description="Failed logins on one account, from any addresses, before a lockout.",
    )
    ticket_rate_limit: int = Field(
        default=30, ge=1,
        description="Tickets one kiosk (or staff member) may issue per ticket rate window.",
    )
    ticket_rate_window_seconds: int = Field(
        default=60, ge=1, description="The window of `ticket_rate_limit`, in seconds."
    )
    status_rate_limit: int = Field(
        default=60, ge=1,
        description="Requests of one client for one ticket's status (page, JSON, websocket) "
        "per window.",
    )
    status_rate_window_seconds: int = Field(
        default=60, ge=1, description="The window of `status_rate_limit`, in seconds."
    )
    status_unknown_limit: int = Field(
        default=20, ge=1,
        description="Requests of one client for status tokens of no ticket per window; past "
        "it every status request of that client gets a 429.",
    )
    status_unknown_window_seconds: int = Field(
        default=600, ge=1, description="The window of `status_unknown_limit`, in seconds."
    )
    pre_entry_retention_days: int = Field(
        default=14, ge=1,
        description="Days a resident's details entered at home wait for the kiosk; then an "
        "unused entry and its details are deleted.",
    )
    pre_entry_rate_limit: int = Field(
        default=10, ge=1,
        description="Details entered at home one client (address) may send per window.",
    )
    pre_entry_rate_window_seconds: int = Field(
        default=3600, ge=1, description="The window of `pre_entry_rate_limit`, in seconds."
    )
    pre_entry_open_limit: int = Field(
        default=5, ge=1,
        description="Unused entries of details at home one client (address) may hold at once.",
    )
    pre_entry_code_limit: int = Field(
        default=10, ge=1,
        description="Wrong codes one kiosk or client may enter per window before its code "
        "entry is refused for a while.",
    )
    pre_entry_code_window_seconds: int = Field(
        default=600, ge=1, description="The window of `pre_entry_code_limit`, in seconds."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`json`: one JSON object per log line (for journald/Loki/Elasticsearch).",
    )
    priority_streak: int = Field(
        default=3,
        ge=1,
        description="Priority tickets one counter may call in a row while normal tickets wait; "
        "the next call then serves the longest-waiting normal ticket.",
    )
    transfer_placement: Literal["front", "original", "back"] = Field(
        default="original",
        description="Where a transferred ticket joins the target queue: at the front, at its "
        "original place (by when it first joined a queue), or at the back.",
    )
    booking_horizon_days: int = Field(
        default=30, ge=1, le=366,
        description="How many days ahead residents may book an appointment.",
    )
    booking_max_open: int = Field(
        default=3, ge=1,
        description="Open (future) appointments one phone number or e-mail address may hold.",
    )
    checkin_before_minutes: int = Field(
        default=30, ge=0,
        description="Check-in at the kiosk opens this many minutes before the booked time.",
    )
    checkin_after_minutes: int = Field(
        default=15, ge=0,
        description="Check-in closes this many minutes after the booked time; the booking "
        "then becomes a no-show.",
    )
    booking_limit: int = Field(
        default=10, ge=1,
        description="Booking attempts (book, move, cancel) one client may make per "
        "`booking_window_seconds`; then it gets a 429.",
    )
    booking_window_seconds: int = Field(
        default=600, ge=1, description="The window of `booking_limit`, in seconds."
    )
    kiosk_idle_seconds: int = Field(
        default=60, ge=5,
        description="Seconds without a touch before a kiosk shows its privacy countdown.",
    )
    kiosk_countdown_seconds: int = Field(
        default=15, ge=1,
        description="Length of that countdown; then the kiosk clears everything and restarts.",
    )
    check_migrations: bool = Field(
        default=True,
        description="Refuse to start when the database is not migrated to the latest revision.",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url_parses(cls, value: str) -> str:
        """Reject a malformed URL here, with a message, rather than deep inside SQLAlchemy."""
        if value:
            try:
                url = make_url(value)
            except ArgumentError as error:
                message = f"FRONTYARD_DATABASE_URL is not a database URL: {value!r}"
                raise ValueError(message) from error
            if url.get_backend_name() not in {"sqlite", "postgresql"}:
                raise ValueError("FRONTYARD_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        """A typo in the time zone would shift every ticket day; refuse it."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"FRONTYARD_TIMEZONE is not a known time zone: {value!r}") from error
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The city's time zone as a tzinfo."""
        return ZoneInfo(self.timezone)

    @property
    def secure_cookies(self) -> bool:
        """Cookies get the Secure flag when the service is reached over HTTPS."""
        return self.base_url.startswith("https://")

    def resolved_database_url(self) -> str:
        """The database URL, with the SQLite default and the psycopg 3 driver filled in."""
        if not self.database_url:
            return f"sqlite:///{self.data_dir / 'frontyard.sqlite3'}"
        url = make_url(self.database_url)
        if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and stored in the data dir."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            _create_once(key_file, secrets.token_urlsafe(48))
        return key_file.read_text().strip()


def _create_once(path: Path, content: str) -> None:
    """Write `path` unless it exists, atomically: of several workers starting at once, the
    first to link its file wins and the others read that one (never a half-written file)."""
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        # Created private: the key is never readable by others, not even for a moment.
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(content)
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)
