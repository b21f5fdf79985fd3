"""Password rules and changes: a person's own change, and temporary passwords an admin sets."""

from __future__ import annotations

import secrets

from sqlmodel import Session

from frontyard import audit
from frontyard.auth import User, hash_password, verify_password
from frontyard.exceptions import ValidationFailed
from frontyard.i18n import gettext as _

MIN_LENGTH = 8
#: The sign-in form reads at most 256 characters; a longer password could never be typed in.
MAX_LENGTH = 128
#: Letters and digits nobody confuses when reading them aloud or off a screen (no 0/O, 1/l/I).
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def temporary_password() -> str:
    """A random password to hand over once, e.g. `k7mq-x2pa-9hzt-cw4e` (about 79 bits)."""
    chars = "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def check_new_password(password: str, username: str) -> None:
    """Refuse a password that is too short, too long, the user name, or has control codes."""
    problem = None
    if password.strip().lower() == username.strip().lower():
        problem = _("The password may not be the user name.")
    elif len(password) < MIN_LENGTH:
        problem = _("The password must have at least %(count)s characters.") % {
            "count": MIN_LENGTH}
    elif len(password) > MAX_LENGTH:
        problem = _("The password may have at most %(count)s characters.") % {
            "count": MAX_LENGTH}
    elif any(ord(char) < 32 or ord(char) == 127 for char in password):
        problem = _("The password may not contain control characters.")
    if problem:
        raise ValidationFailed(problem, new_password=problem)


def set_password(session: Session, user: User, password: str, *, temporary: bool) -> None:
    """Store a new password; a temporary one must be changed at the next sign-in."""
    check_new_password(password, user.username)
    user.password_hash = hash_password(password)
    user.must_change_password = temporary
    session.add(user)


def change_own_password(session: Session, user: User, current: str, new: str,
                        confirmation: str) -> None:
    """A signed-in person replaces their password (ends their other sessions)."""
    if not verify_password(user.password_hash, current):
        message = _("The current password is not correct.")
        raise ValidationFailed(message, current_password=message)
    if new != confirmation:
        message = _("The two new passwords are not the same.")
        raise ValidationFailed(message, confirmation=message)
    if new == current:
        message = _("Choose a password different from the current one.")
        raise ValidationFailed(message, new_password=message)
    set_password(session, user, new, temporary=False)
    # Never the passwords themselves: only that it happened.
    audit.record(session, user.id, "password_changed", None, user=user.username)
