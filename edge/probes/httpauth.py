"""HTTP Basic and Digest (RFC 7616: MD5, SHA-256, qop=auth) authorisation headers for cameras.

Hikvision, Dahua, KBVision and most ONVIF cameras answer a snapshot request with a Digest
challenge. The probe sends the request without credentials first and answers the challenge the
camera gives, so a password never goes out as Basic to a camera that asked for Digest (with
``scheme="basic"`` configured it is sent up front, for cameras that want that). Nothing here logs,
and errors never carry the password.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re

_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class ChallengeError(ValueError):
    """A challenge this client cannot answer (unknown scheme or algorithm)."""


def basic(username: str, password: str) -> str:
    token = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(token).decode("ascii")


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``'Digest realm="x", nonce="y"'`` -> ``("digest", {"realm": "x", "nonce": "y"})``."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m[0].lower(): (m[1] if m[1] else m[2]) for m in _PARAM.findall(rest)}
    return scheme.lower(), params


def digest(
    username: str,
    password: str,
    method: str,
    uri: str,
    challenge: dict[str, str],
    nc: int = 1,
    cnonce: str | None = None,
) -> str:
    algorithm = challenge.get("algorithm", "MD5").upper()
    session = algorithm.endswith("-SESS")
    hasher = _HASHES.get(algorithm.removesuffix("-SESS"))
    if hasher is None:
        raise ChallengeError(f"unsupported digest algorithm {algorithm[:20]!r}")

    def h(text: str) -> str:
        return hasher(text.encode("utf-8")).hexdigest()

    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    if qops and "auth" not in qops:
        raise ChallengeError("the camera asks for qop=auth-int only")
    cnonce = cnonce or os.urandom(8).hex()
    ha1 = h(f"{username}:{realm}:{password}")
    if session:
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    fields = {
        "username": username,
        "realm": realm,
        "nonce": nonce,
        "uri": uri,
        "algorithm": algorithm,
    }
    if qops:
        count = f"{nc:08x}"
        fields["response"] = h(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}")
        fields.update(qop="auth", nc=count, cnonce=cnonce)
    else:
        fields["response"] = h(f"{ha1}:{nonce}:{ha2}")
    if "opaque" in challenge:
        fields["opaque"] = challenge["opaque"]
    unquoted = {"qop", "nc", "algorithm"}
    parts = [f"{k}={v}" if k in unquoted else f'{k}="{_quote(v)}"' for k, v in fields.items()]
    return "Digest " + ", ".join(parts)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
