"""Reading a YAML document an admin uploads (the catalog, a criteria set) without letting its
shape hurt the server.

PyYAML's safe loader still expands aliases (``*name``): a few hundred bytes of nested aliases
("billion laughs") become millions of nodes and tie up a worker for minutes; and it composes
nested collections recursively, so a document nested a few thousand deep raises
``RecursionError`` (a 500) instead of a YAML error. Neither is needed by a catalog or a criteria
set, so a first pass over the parser's events (flat, no recursion) refuses aliases and nesting
deeper than ``MAX_DEPTH``; only then is the document built. Both passes use libyaml when PyYAML
has it: a province's catalog (7 MiB, 60,000 devices) loads in about 8 s instead of 45. The
document's size is bounded by the API's body limit (``api.bodylimit``).
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 32  # a catalog nests 6 deep (provinces, communes, areas, devices…), a criteria set 5
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class YamlRefused(ValueError):
    """The document is not YAML this API reads; the message says why and where."""


def _line(event: yaml.Event) -> int:
    return int(getattr(event.start_mark, "line", -1)) + 1


def _check_shape(text: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise YamlRefused(
                f"line {_line(event)}: aliases (*name) are not accepted: write the value out"
            )
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlRefused(f"line {_line(event)}: nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, _CLOSE):
            depth -= 1


def load(data: bytes) -> Any:
    """The document's content (plain dicts, lists, scalars), or ``YamlRefused``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlRefused(f"not UTF-8: {exc}") from None
    try:
        _check_shape(text)
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, shape checked
    except yaml.YAMLError as exc:
        raise YamlRefused(f"not a YAML document: {exc}") from None
