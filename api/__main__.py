"""``python -m api``: settings from SMARTAREA_* variables, serve with uvicorn until stopped."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from api.main import create_app
from api.settings import ApiSettings


def main() -> int:
    try:
        settings = ApiSettings()
    except ValidationError as exc:
        for err in exc.errors():
            field = "_".join(str(p) for p in err["loc"]).upper()
            print(f"error: SMARTAREA_{field}: {err['msg']}", file=sys.stderr)
        return 2
    uvicorn.run(
        create_app(settings), host=settings.api_host, port=settings.api_port, log_level="info"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
