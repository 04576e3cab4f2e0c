"""Passwords and tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def hash_password(password: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    """scrypt with a random salt."""
    salt = salt or secrets.token_bytes(16)
    return salt, hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)


def check_password(password: str, salt: bytes, expected: bytes) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(hash_password(password, salt)[1], expected)


def new_reset_token() -> str:
    """An unguessable, URL-safe token."""
    return secrets.token_urlsafe(32)


def cache_key(text: str) -> str:
    """A short key for the response cache (not a security control)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]
