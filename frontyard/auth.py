"""Staff accounts with roles, device tokens for kiosks and boards, and login throttling."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from frontyard.database import UTCDateTime, enum_column, utcnow
from frontyard.sliding_window import SlidingWindow

_hasher = PasswordHasher()
# A fixed hash to verify against when the user does not exist, so that an unknown name
# costs the same time as a wrong password and does not reveal which accounts exist. Made on
# first use, not at import: every `frontyard` command would otherwise spend ~0.5 s on it.
_DUMMY_HASH: str | None = None


class Role(StrEnum):
    """Staff roles; each includes the rights of those before it."""

    STAFF = "staff"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in staff < manager < admin."""
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        """Whether this role has at least the rights of `other`."""
        return self.rank >= other.rank


class DeviceKind(StrEnum):
    """Unattended screens that authenticate with a token rather than a person's password."""

    KIOSK = "kiosk"
    BOARD = "board"


class User(SQLModel, table=True):
    """A member of staff who signs in with a name and password."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    display_name: str = Field(default="", max_length=128)
    password_hash: str
    role: Role = Field(default=Role.STAFF, sa_column=enum_column(Role))
    active: bool = True
    #: Raised to end every session of the user at once (deactivation, an admin's reset).
    session_version: int = 0
    #: Set by a temporary password: the next sign-in must choose a new one first.
    must_change_password: bool = False
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Device(SQLModel, table=True):
    """A kiosk or call board; only a hash of its token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    kind: DeviceKind = Field(sa_column=enum_column(DeviceKind))
    office_id: int | None = Field(default=None, foreign_key="office.id")
    token_hash: str = Field(unique=True, max_length=64)
    pairing_code_hash: str | None = Field(default=None, max_length=64)
    revoked: bool = False
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    last_seen_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def timing_equaliser() -> str:
    """The hash an unknown name is checked against (made once, then kept)."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("frontyard-timing-equaliser")
    return _DUMMY_HASH


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; always spends the time of one verification."""
    try:
        return _hasher.verify(password_hash or timing_equaliser(), password) \
            and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    """Tokens are long and random, so a fast hash suffices to keep them out of the database."""
    return hashlib.sha256(token.encode()).hexdigest()


def session_epoch(user: User) -> str:
    """What a session remembers of its user; a password change or a new session version
    (deactivation, an admin's reset) changes it, which ends every older session."""
    return f"{user.session_version}:{user.password_hash[-16:]}"


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None."""
    user = session.exec(select(User).where(User.username == username)).first()
    ok = verify_password(user.password_hash if user else None, password)
    if user and ok and user.active:
        return user
    return None


def create_user(session: Session, username: str, password: str, role: Role, **extra: Any) -> User:
    """Add a staff account with a hashed password."""
    user = User(username=username, password_hash=hash_password(password), role=role, **extra)
    session.add(user)
    session.flush()
    return user


#: Pairing codes are typed in from the admin page: no letters that look alike (0/O, 1/I/L).
PAIRING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_pairing_code() -> str:
    """A one-time code such as `K7MQ-X2PA-9HZT-CW4E` (about 79 bits: not guessable)."""
    chars = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def _code_hashes(code: str) -> list[str]:
    """Hashes a typed code may match: as typed (older links) and without case, spaces and dashes."""
    typed = "".join(code.split()).replace("-", "").upper()
    plain = "-".join(typed[i:i + 4] for i in range(0, len(typed), 4))
    return [hash_token(code), hash_token(plain)]


def create_device(
    session: Session, name: str, kind: DeviceKind, office_id: int | None = None
) -> tuple[Device, str, str]:
    """Add a device; returns it with its token and a one-time pairing code (shown once)."""
    token = secrets.token_urlsafe(32)
    pairing_code = new_pairing_code()
    device = Device(
        name=name,
        kind=kind,
        office_id=office_id,
        token_hash=hash_token(token),
        pairing_code_hash=hash_token(pairing_code),
    )
    session.add(device)
    session.flush()
    return device, token, pairing_code


def renew_device(session: Session, device: Device) -> tuple[str, str]:
    """Give the device a new token and pairing code; the old ones die (a re-pair)."""
    token, code = secrets.token_urlsafe(32), new_pairing_code()
    device.token_hash, device.pairing_code_hash = hash_token(token), hash_token(code)
    device.revoked = False
    session.add(device)
    return token, code


def device_for_token(session: Session, token: str) -> Device | None:
    """The live device holding this token, or None."""
    device = session.exec(select(Device).where(Device.token_hash == hash_token(token))).first()
    return device if device and not device.revoked else None


def note_seen(engine: Engine, device: Device, every: float) -> None:
    """Record that the device made a request, at most once every `every` seconds (a device
    polling each second must not cost a write each second)."""
    now = utcnow()
    if device.last_seen_at is not None and (now - device.last_seen_at).total_seconds() < every:
        return
    stale = now - timedelta(seconds=every)
    with engine.begin() as connection:  # one guarded UPDATE: concurrent workers write once
        connection.execute(
            update(Device).where(
                Device.id == device.id,  # type: ignore[arg-type]
                or_(Device.last_seen_at.is_(None), Device.last_seen_at < stale))  # type: ignore[union-attr,operator]
            .values(last_seen_at=now))
    device.last_seen_at = now


def device_for_pairing_code(session: Session, code: str) -> Device | None:
    """The live device waiting to be paired with this code (the code stays unused)."""
    if not code.strip() or len(code) > 64:
        return None
    device = session.exec(select(Device).where(
        Device.pairing_code_hash.in_(_code_hashes(code)))).first()  # type: ignore[union-attr]
    return device if device and not device.revoked else None


def redeem_pairing_code(session: Session, code: str) -> tuple[Device, str] | None:
    """Exchange a one-time pairing code for the device and a fresh token (the old one dies)."""
    device = device_for_pairing_code(session, code)
    if device is None:
        return None
    token = secrets.token_urlsafe(32)
    device.token_hash = hash_token(token)
    device.pairing_code_hash = None
    session.add(device)
    return device, token


class LoginThrottle:
    """Counts failed sign-ins per (account, address), per address and per account.

    The pair limit stops guessing one password; the address limit stops one machine trying
    many accounts; the account limit stops many machines guessing one account's password.
    """

    def __init__(self, max_failures: int, window_seconds: int,
                 max_per_address: int | None = None, max_per_account: int | None = None) -> None:
        self.window_seconds = window_seconds
        self._pair = SlidingWindow(max_failures, window_seconds)
        self._address = SlidingWindow(max_per_address or 4 * max_failures, window_seconds)
        self._account = SlidingWindow(max_per_account or 4 * max_failures, window_seconds)

    def retry_after(self, username: str, address: str) -> float:
        """Seconds before this account may try again from this address (0: now)."""
        account = username.lower()
        return max(self._pair.retry_after((account, address)),
                   self._address.retry_after(address), self._account.retry_after(account))

    def is_locked(self, username: str, address: str) -> bool:
        """Whether this account may not try again from this address yet."""
        return self.retry_after(username, address) > 0

    def record_failure(self, username: str, address: str) -> None:
        """Remember one failed attempt in every window."""
        account = username.lower()
        self._pair.add((account, address))
        self._address.add(address)
        self._account.add(account)

    def reset(self, username: str, address: str) -> None:
        """Forget this pair's failures after a successful sign-in.

        The address and account windows keep theirs: signing in to one's own account must
        not wipe the trail of an address that tried many others.
        """
        self._pair.reset((username.lower(), address))

    def is_account_locked(self, username: str) -> bool:
        """Whether failures keep this account from signing in, from anywhere or some address."""
        account = username.lower()
        return self._account.retry_after(account) > 0 or self._pair.waiting(
            lambda key: isinstance(key, tuple) and key[0] == account)

    def unlock(self, username: str) -> None:
        """Forget every failure counted against this account (an admin's unlock).

        The address windows are kept: they belong to the machines that tried, not to the
        account, and an admin's unlock must not help a guesser try other accounts.
        """
        account = username.lower()
        self._account.reset(account)
        self._pair.reset_where(lambda key: isinstance(key, tuple) and key[0] == account)
