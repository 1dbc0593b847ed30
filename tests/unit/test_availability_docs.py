"""docs/availability.md is where the rules are written; every answer states the same words."""

from __future__ import annotations

import re
from pathlib import Path

from api.availability.model import MIN_CERTIFICATE_WINDOW, RULES_EN, RULES_VI
from api.availability.source import RUN_FORMAT

DOC = (Path(__file__).parents[2] / "docs" / "availability.md").read_text(encoding="utf-8")


def test_the_rules_each_answer_states_are_the_pages_words() -> None:
    stated = dict(re.findall(r"<!-- rules: (vi|en) -->\n> (.*)\n", DOC))
    assert stated == {"vi": RULES_VI, "en": RULES_EN}


def test_the_page_names_the_roll_up_format_and_the_certificate_minimum() -> None:
    assert f"The\n  marker's `format` field ({RUN_FORMAT})" in DOC
    assert "cover at least one day\n  (`api.availability.model.MIN_CERTIFICATE_WINDOW`)" in DOC
    assert MIN_CERTIFICATE_WINDOW.days == 1
