"""The OpenAPI explorer (Swagger UI) from local files: FastAPI's default page loads it from a CDN,
which shows a blank page on a village LAN without internet.

The files come from the ``swagger-ui-py`` package (Swagger UI 5, which reads OpenAPI 3.1 as
FastAPI writes it; Swagger UI 4 cannot), vendored in its wheel.
The app factory turns FastAPI's own ``/docs`` and ``/redoc`` off; this router serves ``/docs``.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui  # type: ignore[import-untyped]
from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
VENDOR = Path(swagger_ui.__file__).parent / "static"
FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    app = request.app
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} — API",
        swagger_js_url="/ui/vendor/swagger-ui-bundle.js",
        swagger_css_url="/ui/vendor/swagger-ui.css",
        swagger_favicon_url="/ui/vendor/favicon-32x32.png",
        oauth2_redirect_url="/docs/oauth2-redirect",
        # No badge fetched from validator.swagger.io: nothing leaves the LAN.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/docs/oauth2-redirect")
def docs_oauth2_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/ui/vendor/{name}")
def vendor_file(name: str) -> Response:
    media_type = FILES.get(name)  # a fixed list: no path from the request reaches the disk
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    body = (VENDOR / name).read_bytes()
    return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
