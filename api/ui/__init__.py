"""The web dashboard: server-rendered page shells (Jinja2), one CSS file, one small script.

Pages carry no data of their own: the script logs in through ``/auth/token``, keeps the token in
``sessionStorage`` and reads the JSON API with ``Authorization: Bearer``, so the API's roles and
scopes decide what each person sees. Every asset is served from here: no CDN, works offline.
"""
