"""Loading ``SMARTAREA_*`` settings: a wrong value stops the program with the variable's name."""

from __future__ import annotations

import sys
from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

S = TypeVar("S", bound=BaseSettings)


def load_or_explain(settings_class: type[S]) -> S | None:
    """The settings, or ``None`` after printing one line per problem to stderr (exit 2 then)."""
    try:
        return settings_class()
    except ValidationError as exc:
        for err in exc.errors():
            if err["loc"]:
                field = "_".join(str(p) for p in err["loc"]).upper()
                print(f"error: SMARTAREA_{field}: {err['msg']}", file=sys.stderr)
            else:  # a rule across fields: its message names them
                print(f"error: {err['msg']}", file=sys.stderr)
        return None
