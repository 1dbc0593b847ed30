"""Request bodies refuse control characters anywhere in their text, and keep newlines and tabs."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError

from api.bounds import Input


class Body(Input):
    name: str
    notes: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\x7f", "\x85", "\r"])
def test_control_characters_are_refused_wherever_they_hide(bad: str) -> None:
    for body in (
        {"name": f"Khu{bad} 6"},
        {"name": "Khu 6", "notes": ["ok", f"x{bad}"]},
        {"name": "Khu 6", "labels": {f"k{bad}": "v"}},
    ):
        with pytest.raises(ValidationError, match="control characters"):
            Body.model_validate(body)


def test_vietnamese_newlines_and_tabs_pass() -> None:
    text = "Thôn 1, xã Phúc Khánh\nđã thay nguồn\tlúc 7 giờ"
    assert Body.model_validate({"name": text, "notes": [text]}).name == text
