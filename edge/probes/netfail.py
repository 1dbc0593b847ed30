"""Classify network failures into the small set of reason codes reports use."""

from __future__ import annotations

import errno
import socket


def reason_for(exc: BaseException) -> tuple[str, str]:
    """Map a socket-level exception to (reason code, short detail). Never includes credentials."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout", "no answer within the timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused", "connection refused: nothing listens on that port"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "reset", "the connection was reset by the device"
    if isinstance(exc, socket.gaierror):
        return "dns", "the host name does not resolve"
    if isinstance(exc, OSError) and exc.errno in {errno.EHOSTUNREACH, errno.ENETUNREACH}:
        return "unreachable", "no route to the host"
    return "error", type(exc).__name__
