"""Dashboard shells without a browser: languages, the string catalogue, assets and headers."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from fastapi import FastAPI

from api.main import create_app
from api.settings import ApiSettings
from api.ui import routes
from api.ui.strings import CATALOGUE, STRINGS, choose_language

TEMPLATES = Path(routes.__file__).parent / "templates"
SCRIPTS = sorted((Path(routes.__file__).parent / "static" / "js").glob("*.js"))


def get(
    *paths: str, cookies: dict[str, str] | None = None, app: FastAPI | None = None
) -> list[httpx.Response]:
    """GET each path from the dashboard router alone, in process (no server, no catalog)."""
    if app is None:
        app = FastAPI(docs_url=None, redoc_url=None)  # as the factory builds it
        app.include_router(routes.router)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ui.test", cookies=cookies
        ) as client:
            return [await client.get(p) for p in paths]

    return asyncio.run(run())


def test_language_is_vietnamese_unless_toggled() -> None:
    assert choose_language(None, None) == "vi"
    assert choose_language("en", None) == "en"
    assert choose_language(None, "en") == "en"
    assert choose_language("vi", "en") == "vi"
    assert choose_language("fr", "xx") == "vi"


def test_every_string_has_both_languages_and_every_key_used_exists() -> None:
    for key, (vi, en) in CATALOGUE.items():
        assert vi.strip() and en.strip(), key
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bs\.([a-z_]+)", template.read_text(encoding="utf-8")))
    for script in SCRIPTS:
        used |= set(re.findall(r"\bS\.([a-z_]+)", script.read_text(encoding="utf-8")))
    assert used, "no string found in use"
    assert used <= set(STRINGS["vi"]), used - set(STRINGS["vi"])
    # Vietnamese text is written with its diacritics, not stripped.
    assert STRINGS["vi"]["state_down"] == "Hỏng"
    assert "đ" in STRINGS["vi"]["login_title"].lower()


def test_pages_speak_the_chosen_language_and_remember_it() -> None:
    vi, en, remembered = get("/ui/overview", "/ui/overview?lang=en", "/ui/login")
    assert '<html lang="vi">' in vi.text
    assert "Tổng quan các khu dân cư" in vi.text
    assert '<html lang="en">' in en.text
    assert "Overview of residential areas" in en.text
    assert "lang=en" in en.headers["set-cookie"]
    assert "lang" not in vi.headers.get("set-cookie", "")
    (again,) = get("/ui/login", cookies={"lang": "en"})
    assert '<html lang="en">' in again.text
    assert remembered.status_code == 200


def test_pages_load_only_local_assets_and_forbid_everything_else() -> None:
    pages = get("/ui/login", "/ui/overview", "/ui/areas/son-vi-khu-6")
    for page in pages:
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "connect-src 'self'" in csp
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert urls
        assert all(u.startswith(("/", "?", "#", "data:")) for u in urls), urls
        assert "<script>" not in page.text  # no inline script: the policy would block it
    assert 'data-area="son-vi-khu-6"' in pages[2].text


def test_assets_are_a_fixed_list_and_small() -> None:
    css, missing, escape, up = get(
        "/ui/static/app.css",
        "/ui/static/js/nope.js",
        "/ui/static/js/..%2F..%2Froutes.py",
        "/ui/static/../routes.py",
    )
    assert css.headers["content-type"].startswith("text/css")
    assert [r.status_code for r in (missing, escape, up)] == [404, 404, 404]
    scripts = get(*(f"/ui/static/js/{s.name}" for s in SCRIPTS))
    assert all(js.headers["content-type"].startswith("text/javascript") for js in scripts)
    shell = get("/ui/areas/son-vi-khu-6")[0]
    size = len(shell.content) + len(css.content) + sum(len(js.content) for js in scripts)
    assert size < 100 * 1024


def test_every_module_imports_only_what_another_exports() -> None:
    """The pages are ES modules loaded as they are (no build step): an import of a name its
    module does not export would stop the page in the browser."""
    exported = {
        script.name: set(
            re.findall(
                r"^export (?:async )?(?:function|const|class) ([\w$]+)",
                script.read_text(encoding="utf-8"),
                re.M,
            )
        )
        for script in SCRIPTS
    }
    imports = 0
    for script in SCRIPTS:
        text = script.read_text(encoding="utf-8")
        for names, module in re.findall(r'^import \{ (.*) \} from "\./(.*)";$', text, re.M):
            imports += 1
            assert set(names.split(", ")) <= exported[module], (script.name, module)
        for module in re.findall(r'"\./([a-z]+\.js)"', text):
            assert module in exported, (script.name, module)
    assert imports >= 7


def test_area_ids_are_checked_like_the_api_does() -> None:
    (bad,) = get("/ui/areas/Khu%206%3Cscript%3E")
    assert bad.status_code == 422


def test_the_openapi_explorer_loads_only_local_files() -> None:
    page, redirect, script, css, other = get(
        "/docs",
        "/docs/oauth2-redirect",
        "/ui/vendor/swagger-ui-bundle.js",
        "/ui/vendor/swagger-ui.css",
        "/ui/vendor/swagger-ui.js.map",
    )
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert sorted(urls) == [
        "/ui/vendor/favicon-32x32.png",
        "/ui/vendor/swagger-ui-bundle.js",
        "/ui/vendor/swagger-ui.css",
    ]
    assert "validatorUrl" in page.text and "cdn." not in page.text
    assert redirect.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in script.content
    assert css.headers["content-type"].startswith("text/css")
    assert other.status_code == 404


def test_the_app_serves_the_local_explorer_and_no_cdn_page() -> None:
    page, redoc = get("/docs", "/redoc", app=create_app(ApiSettings()))
    assert "/ui/vendor/swagger-ui-bundle.js" in page.text and "cdn." not in page.text
    assert redoc.status_code == 404
