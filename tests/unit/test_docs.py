"""docs/mqtt.md and the contract code must agree."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from contract import models, topics
from contract.decode import Reason

DOC = (Path(__file__).parents[2] / "docs" / "mqtt.md").read_text(encoding="utf-8")
MODELS: dict[str, type[BaseModel]] = {
    "Report": models.Report,
    "DeviceResult": models.DeviceResult,
    "Presence": models.Presence,
    "Command": models.Command,
    "Receipt": models.Receipt,
    "RefusedReport": models.RefusedReport,
}


def test_every_channel_topic_is_documented_as_the_builder_builds_it() -> None:
    documented = set(re.findall(r"`(smartarea/v1/\{area_id\}/\{agent_id\}/[a-z]+)`", DOC))
    built = {
        topics.topic("area-x", "agent-y", ch)
        .replace("area-x", "{area_id}")
        .replace("agent-y", "{agent_id}")
        for ch in topics.Channel
    }
    assert documented == built


def test_concrete_topics_on_the_page_parse() -> None:
    for name in re.findall(r"`(smartarea/v1/[a-z0-9-]+/[a-z0-9-]+/[a-z]+)`", DOC):
        topics.parse(name)
    assert f"`{topics.subscription(topics.Channel.REPORT)}`" in DOC
    assert f"`{topics.subscription(topics.Channel.STATUS)}`" in DOC
    assert (
        f"`{topics.shared(topics.subscription(topics.Channel.REPORT), 'group')}`".replace(
            "group", "{group}"
        )
        in DOC
    )


def test_examples_validate_against_their_models() -> None:
    examples = re.findall(r"<!-- example: (\w+) -->\s*```json\n(.*?)```", DOC, flags=re.S)
    assert {name for name, _ in examples} == {"Report", "Presence", "Command", "Receipt"}
    for name, body in examples:
        MODELS[name].model_validate_json(body)


def test_field_tables_list_exactly_the_model_fields() -> None:
    tables = re.findall(r"<!-- fields: (\w+) -->\n((?:\|.*\n)+)", DOC)
    assert {name for name, _ in tables} == set(MODELS)
    for name, table in tables:
        documented = re.findall(r"^\| `(\w+)` \|", table, flags=re.M)
        fields = [f.alias or n for n, f in MODELS[name].model_fields.items()]
        assert documented == fields, name


def test_dead_letter_reasons_are_all_documented() -> None:
    for reason in Reason:
        assert f"`{reason.value}`" in DOC


def test_declared_text_and_flag_metrics_are_listed() -> None:
    for marker, declared in (("text", models.TEXT_METRICS), ("flag", models.FLAG_METRICS)):
        listed = re.search(rf"<!-- {marker}-metrics -->(.*?)<!-- /{marker}-metrics -->", DOC)
        assert listed is not None, marker
        assert re.findall(r"`(\w+)`", listed.group(1)) == sorted(declared), marker
