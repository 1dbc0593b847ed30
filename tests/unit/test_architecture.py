"""The tree shows the parts, and this test holds their allowed dependencies.

Read from the source (every ``import``, also those inside functions), not from a running
process: a forbidden import on a path no test takes is still caught. See README, "How it fits
together".
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Which of our parts each part may import. devstack, benchmarks and tests may use anything.
ALLOWED: dict[str, set[str]] = {
    "contract": set(),
    "edge": {"contract"},
    "gateway": {"contract"},
    "servicekit": set(),
    "tsdb": {"contract"},  # tsdb.schema: one measurement per device kind
    "catalog": {"servicekit"},
    "ingest": {"contract", "servicekit", "tsdb"},
    "alerts": {"contract", "servicekit", "tsdb", "catalog"},
    "api": {"contract", "servicekit", "tsdb", "catalog"},
}
PARTS = set(ALLOWED) | {"devstack", "benchmarks", "tests"}
# Server-only modules of the contract (they need msgspec, which the agent does not install).
SERVER_ONLY = {"contract.decode", "contract.fastreport"}
AGENT_SIDE = {"contract.models", "contract.topics", "contract"}


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _modules(part: str) -> Iterator[tuple[Path, set[str]]]:
    for path in sorted((ROOT / part).rglob("*.py")):
        yield path, set(_imports(path))


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_each_part_imports_only_what_it_may(part: str) -> None:
    wrong = []
    for path, names in _modules(part):
        used = {name.split(".")[0] for name in names} & PARTS - {part}
        for other in sorted(used - ALLOWED[part]):
            wrong.append(f"{path.relative_to(ROOT)} imports {other}")
    assert wrong == [], f"{part} may import only {sorted(ALLOWED[part]) or 'none of ours'}"


def test_the_agent_never_needs_the_server_side_of_the_contract() -> None:
    for part in ("edge", "gateway"):
        for path, names in _modules(part):
            assert not names & SERVER_ONLY, path.relative_to(ROOT)
    for module in AGENT_SIDE:
        path = ROOT / (module.replace(".", "/") + ("/__init__.py" if "." not in module else ".py"))
        names = set(_imports(path))
        assert not {n.split(".")[0] for n in names} & {"msgspec", "fastapi", "sqlalchemy"}, path
        assert not names & SERVER_ONLY, path


def test_every_top_level_package_is_named_here() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages <= PARTS, f"a new part needs its rule: {sorted(packages - PARTS)}"


def test_the_rules_catch_a_forbidden_import(tmp_path: Path) -> None:
    """The reader itself: a function-level import of another service is seen."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from api.routes import incidents\n    import ingest.batch\n")
    assert {"api.routes", "api.routes.incidents", "ingest.batch"} <= set(_imports(probe))
