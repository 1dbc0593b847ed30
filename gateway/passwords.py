"""Passwords in Mosquitto 2.x's own password-file format, without calling ``mosquitto_passwd``.

A line is ``username:$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512>``, the format
``mosquitto_passwd`` writes (12-byte salt, 64-byte hash, 101 iterations by default). The tests
check both directions against the real tools: the broker admits our hashes, and ``verify`` accepts
``mosquitto_passwd``'s.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 101  # Mosquitto 2.0's default; the broker reads the count from each line
SALT_BYTES = 12
PASSWORD_BYTES = 24  # 32 URL-safe characters, 192 bits: generated, never chosen by a person


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def hash_password(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """The ``$7$…`` string that goes after ``username:`` in Mosquitto's password file."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify(password: str, hashed: str) -> bool:
    try:
        empty, kind, iterations, salt, digest = hashed.split("$")
        if empty or kind != "7":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.pbkdf2_hmac(
            "sha512", password.encode(), base64.b64decode(salt, validate=True), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(expected, actual)
