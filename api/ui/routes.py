"""Dashboard routes: page shells in the caller's language and the few static assets they use."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Cookie, Header, HTTPException, Query, Request, Response, status
from fastapi import Path as Path_
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.ui import docs
from api.ui.strings import LANGUAGES, STRINGS, choose_language, script_strings
from contract.topics import SLUG_MAX, SLUG_PATTERN

pages = APIRouter(prefix="/ui", tags=["dashboard"], include_in_schema=False)
_HERE = Path(__file__).parent
templates = Jinja2Templates(directory=_HERE / "templates")

# Pages run only our own script and style, talk only to this server, and cannot be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
REFRESH_S = 15  # live status is re-read this often; ?refresh=N (1..300) overrides it


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def _load_assets() -> dict[str, Asset]:
    types = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
    assets = {}
    static = _HERE / "static"
    for path in sorted(static.rglob("*")):
        if path.suffix in types:
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            assets[path.relative_to(static).as_posix()] = Asset(body, types[path.suffix], etag)
    return assets


ASSETS = _load_assets()  # a fixed list read once: no path from the request reaches the disk


def _page(
    request: Request,
    template: str,
    lang_query: str | None,
    lang_cookie: str | None,
    refresh: int | None,
    **context: object,
) -> HTMLResponse:
    language = choose_language(lang_query, lang_cookie)
    strings = STRINGS[language]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": language,
            "other": next(code for code in LANGUAGES if code != language),
            "s": strings,
            "script_strings": script_strings(language),
            "refresh_s": refresh or REFRESH_S,
            "version": {name: asset.etag.strip('"') for name, asset in ASSETS.items()},
            **context,
        },
    )
    response.headers.update(SECURITY_HEADERS)
    if lang_query in LANGUAGES:
        response.set_cookie("lang", language, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


LangQuery = Annotated[str | None, Query(alias="lang", pattern="^(vi|en)$")]
LangCookie = Annotated[str | None, Cookie(alias="lang")]
Refresh = Annotated[int | None, Query(ge=1, le=300, description="seconds between live reads")]


@pages.get("", include_in_schema=False)
def ui_root() -> RedirectResponse:
    return RedirectResponse("/ui/overview", status.HTTP_307_TEMPORARY_REDIRECT)


@pages.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    lang: LangQuery = None,
    lang_cookie: LangCookie = None,
) -> HTMLResponse:
    return _page(request, "login.html", lang, lang_cookie, None, page="login")


@pages.get("/password", response_class=HTMLResponse)
def password_page(
    request: Request,
    lang: LangQuery = None,
    lang_cookie: LangCookie = None,
) -> HTMLResponse:
    return _page(request, "password.html", lang, lang_cookie, None, page="password")


@pages.get("/overview", response_class=HTMLResponse)
def overview_page(
    request: Request,
    lang: LangQuery = None,
    lang_cookie: LangCookie = None,
    refresh: Refresh = None,
) -> HTMLResponse:
    return _page(request, "overview.html", lang, lang_cookie, refresh, page="overview")


@pages.get("/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request,
    lang: LangQuery = None,
    lang_cookie: LangCookie = None,
    refresh: Refresh = None,
) -> HTMLResponse:
    return _page(request, "incidents.html", lang, lang_cookie, refresh, page="incidents")


@pages.get("/areas/{area_id}", response_class=HTMLResponse)
def area_page(
    request: Request,
    area_id: Annotated[str, Path_(pattern=SLUG_PATTERN, max_length=SLUG_MAX)],
    lang: LangQuery = None,
    lang_cookie: LangCookie = None,
    refresh: Refresh = None,
) -> HTMLResponse:
    return _page(
        request,
        "area.html",
        lang,
        lang_cookie,
        refresh,
        page="area",
        area_id=area_id,
    )


@pages.get("/areas/{area_id}/certification", response_class=HTMLResponse)
def certification_page(
    request: Request,
    area_id: Annotated[str, Path_(pattern=SLUG_PATTERN, max_length=SLUG_MAX)],
    lang: LangQuery = None,
    lang_cookie: LangCookie = None,
) -> HTMLResponse:
    return _page(
        request,
        "certification.html",
        lang,
        lang_cookie,
        None,
        page="certification",
        area_id=area_id,
    )


@pages.get("/static/{name:path}")
def static_asset(name: str, if_none_match: Annotated[str | None, Header()] = None) -> Response:
    asset = ASSETS.get(name)
    if asset is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    # The page links app.css and js/main.js with their version, so those may be kept a day; the
    # modules main.js imports are named without one, so the browser revalidates them (ETag, 304).
    versioned = name in ("app.css", "js/main.js")
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "public, max-age=86400" if versioned else "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if if_none_match == asset.etag:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


# What the app mounts: the pages and the local OpenAPI explorer.
router = APIRouter()
router.include_router(pages)
router.include_router(docs.router)
