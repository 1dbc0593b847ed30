"""Input checks of the API that need no server: YAML documents and the command line."""

from __future__ import annotations

import re
import time

import pytest

from api.__main__ import _parser
from api.catalogfile import CatalogFileError
from api.catalogfile import parse as parse_catalog
from api.criteria.sets import CriteriaSetError
from api.criteria.sets import parse as parse_set
from api.yamldoc import MAX_DEPTH, YamlRefused, load

# Nine levels of nine aliases: 387 million strings if expanded, in 500 bytes.
_BOMB = "\n".join(
    [
        'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)),
        "version: 1",
        "provinces: [{id: phu-tho, name: x, communes: *l9}]",
    ]
).encode()


def test_ordinary_yaml_loads_and_anchors_without_aliases_are_harmless() -> None:
    assert load("a: [1, {b: Sơn Vi}]\nc: &x 3\n".encode()) == {"a": [1, {"b": "Sơn Vi"}], "c": 3}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_BOMB, "line 2: aliases (*name) are not accepted"),
        (b"a: &x 1\nb: *x\n", "aliases"),
        (b"a: &x {k: 1}\nb: {<<: *x}\n", "aliases"),  # a merge key is an alias too
        (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, None),  # at the limit: read
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nested deeper than 32 levels"),
        (b"".join(b"  " * i + b"k:\n" for i in range(40)), "line 33: nested deeper than 32"),
        (b"[" * 100_000, "nest"),  # libyaml's own limit, or ours: never RecursionError
        (b"\xef\xbb\xbfa: 1", None),  # a BOM is fine in YAML
        (b"\xff\xfe", "not UTF-8"),
        (b"a: 1\n---\nb: 2\n", "expected a single document"),
    ],
)
def test_yaml_that_could_hurt_the_server_is_refused_at_once(
    document: bytes, message: str | None
) -> None:
    started = time.monotonic()
    if message is None:
        load(document)
    else:
        with pytest.raises(YamlRefused, match=re.escape(message)):
            load(document)
    assert time.monotonic() - started < 1


def test_the_catalog_and_criteria_sets_read_yaml_through_the_bounded_loader() -> None:
    with pytest.raises(CatalogFileError, match="aliases"):
        parse_catalog(_BOMB)
    with pytest.raises(CriteriaSetError, match="nested deeper"):
        parse_set(b"[" * 40 + b"]" * 40)


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("-1", "must be from 1 to 3650 (a token of -1 days would be expired when issued)"),
        ("0", "expired when issued"),
        ("100000", "kept beyond any review"),
        ("1.5", "must be a whole number of days"),
    ],
)
def test_create_token_refuses_a_lifetime_that_is_no_lifetime(
    days: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        _parser().parse_args(["create-token", "robot", f"--days={days}"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --days: must be" in err and message in err, err
    assert _parser().parse_args(["create-token", "robot", "--days=30"]).days == 30
