"""A limit on the size of request bodies, so no client can make a worker read (and hold in memory)
an unbounded upload.

A body whose ``Content-Length`` is over the limit is refused with 413 before any of it is read;
one sent without a length (chunked) is counted as it arrives and refused once it passes the limit.
The YAML uploads (the catalog of a province, a criteria set) have a larger limit of their own.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import HTTPException, status
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.i18n import text


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int, variable: str, accept_language: str | None) -> None:
        detail = text("body_too_large", accept_language).format(limit=limit, variable=variable)
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, detail)


class BodyLimit:
    """ASGI middleware: ``limit`` bytes for every body, ``documents`` (path → limit) for the
    routes that take larger ones. ``variables`` names the settings, for the refusal's text."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        documents: Mapping[str, int],
        variables: tuple[str, str] = (
            "SMARTAREA_API_MAX_BODY_BYTES",
            "SMARTAREA_API_MAX_DOCUMENT_BYTES",
        ),
    ) -> None:
        self.app = app
        self.limit = limit
        self.documents = dict(documents)
        self.variables = variables

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/") or "/"
        limit = self.documents.get(path, self.limit)
        variable = self.variables[1] if path in self.documents else self.variables[0]
        headers = dict(scope["headers"])
        language = headers.get(b"accept-language", b"").decode("latin-1") or None
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            refusal = BodyTooLarge(limit, variable, language)
            response = JSONResponse({"detail": refusal.detail}, refusal.status_code)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # FastAPI passes an HTTPException through as it is
                    raise BodyTooLarge(limit, variable, language)
            return message

        await self.app(scope, counted, send)
