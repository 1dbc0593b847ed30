"""Every MQTT topic of the product is built here, and only here.

The gateway ACL, the ingest subscriptions and the agent all call these builders, so a topic
cannot be spelled two ways. `docs/mqtt.md` documents them; a test keeps the page and this
module in agreement.

Layout: ``smartarea/v1/<area_id>/<agent_id>/<channel>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

ROOT = "smartarea/v1"

# Stable slugs: lower-case ASCII letters, digits and single hyphens. They can never contain MQTT
# wildcards or separators ("+", "#", "/"), and survive URLs, file names and InfluxDB tags as-is.
# Display names (Vietnamese, with diacritics) live in the catalog, not in ids.
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MAX = 63
_SLUG = re.compile(SLUG_PATTERN)


class Channel(StrEnum):
    """The last topic level: what kind of message travels on the topic."""

    REPORT = "report"  # agent → server: one report per probe cycle (QoS 1)
    STATUS = "status"  # agent → server: retained presence, "offline" by MQTT Will (QoS 1)
    COMMAND = "cmd"  # server → agent: commands for one agent (QoS 1)
    RECEIPT = "receipt"  # ingest → agent: which reports are stored (or refused for good)


def is_slug(value: str) -> bool:
    return len(value) <= SLUG_MAX and bool(_SLUG.match(value))


def check_slug(value: str, what: str) -> str:
    if not is_slug(value):
        raise ValueError(
            f"{what} {value!r} is not a valid id: use 1-63 lower-case letters a-z, digits and "
            "single hyphens, e.g. 'son-vi-khu-6' (put the Vietnamese name in the catalog)"
        )
    return value


def topic(area_id: str, agent_id: str, channel: Channel) -> str:
    """The topic on which one agent of one area speaks (or listens, for commands)."""
    check_slug(area_id, "area id")
    check_slug(agent_id, "agent id")
    return f"{ROOT}/{area_id}/{agent_id}/{channel.value}"


def report_topic(area_id: str, agent_id: str) -> str:
    return topic(area_id, agent_id, Channel.REPORT)


def status_topic(area_id: str, agent_id: str) -> str:
    return topic(area_id, agent_id, Channel.STATUS)


def command_topic(area_id: str, agent_id: str) -> str:
    return topic(area_id, agent_id, Channel.COMMAND)


def receipt_topic(area_id: str, agent_id: str) -> str:
    return topic(area_id, agent_id, Channel.RECEIPT)


def subscription(channel: Channel, area_id: str | None = None) -> str:
    """A filter for one channel of every agent (of one area when ``area_id`` is given)."""
    area = "+" if area_id is None else check_slug(area_id, "area id")
    return f"{ROOT}/{area}/+/{channel.value}"


def shared(filter_: str, group: str) -> str:
    """An MQTT v5 shared subscription: the members of ``group`` split the messages between them."""
    check_slug(group, "share group")
    return f"$share/{group}/{filter_}"


@dataclass(frozen=True, slots=True)
class TopicParts:
    area_id: str
    agent_id: str
    channel: Channel


def parse(topic_name: str) -> TopicParts:
    """Split a concrete topic back into its parts; ``ValueError`` names what is wrong."""
    prefix = ROOT + "/"
    if not topic_name.startswith(prefix):
        raise ValueError(f"topic {topic_name[:120]!r} does not start with {prefix!r}")
    parts = topic_name[len(prefix) :].split("/")
    if len(parts) != 3:
        raise ValueError(
            f"topic {topic_name[:120]!r} does not have the form {ROOT}/AREA/AGENT/CHANNEL"
        )
    area_id, agent_id, channel = parts
    try:
        kind = Channel(channel)
    except ValueError:
        raise ValueError(
            f"topic {topic_name[:120]!r} has an unknown channel {channel[:40]!r}"
        ) from None
    return TopicParts(check_slug(area_id, "area id"), check_slug(agent_id, "agent id"), kind)


@dataclass(frozen=True, slots=True)
class Grants:
    """What one broker account may do: the gateway writes these into Mosquitto's ACL file.

    Built here, from the same builders the agent, ingest and API use, so the ACL cannot drift
    from the topics actually spoken. Filters may contain ``+``; Mosquitto matches them.
    """

    publish: tuple[str, ...] = ()
    subscribe: tuple[str, ...] = ()


def agent_grants(area_id: str, agent_id: str) -> Grants:
    """One agent: its own report and presence (and its Will); only its own commands and
    receipts."""
    return Grants(
        publish=(report_topic(area_id, agent_id), status_topic(area_id, agent_id)),
        subscribe=(command_topic(area_id, agent_id), receipt_topic(area_id, agent_id)),
    )


def ingest_grants() -> Grants:
    """Ingest: read every report and presence; tell each agent which of its reports are stored."""
    return Grants(
        publish=(subscription(Channel.RECEIPT),),
        subscribe=(subscription(Channel.REPORT), subscription(Channel.STATUS)),
    )


def api_grants() -> Grants:
    """The API: send commands to any agent, read nothing."""
    return Grants(publish=(subscription(Channel.COMMAND),))


def area_grants(area_ids: tuple[str, ...]) -> Grants:
    """A commune broker's bridge: speak for the agents of its own areas only."""
    return Grants(
        publish=tuple(
            subscription(channel, area)
            for area in area_ids
            for channel in (Channel.REPORT, Channel.STATUS)
        ),
        subscribe=tuple(
            subscription(channel, area)
            for area in area_ids
            for channel in (Channel.COMMAND, Channel.RECEIPT)
        ),
    )


def agent_account(area_id: str, agent_id: str) -> str:
    """The broker user name of one agent: exactly the middle levels of its topics.

    So one ACL pattern (``%u`` = user name) grants every agent its own topics and nothing else,
    and the broker's ACL stays a few lines however many agents there are (Mosquitto 2.0 loads
    per-user ACL sections in super-linear time: 22 s for 30,000 agents, blocking all traffic).
    """
    return f"{check_slug(area_id, 'area id')}/{check_slug(agent_id, 'agent id')}"


ACL_USERNAME = "%u"  # Mosquitto replaces it with the connected client's user name


def agent_pattern_grants() -> Grants:
    """``agent_grants`` for every agent at once, as Mosquitto ACL patterns over its user name."""
    return Grants(
        publish=(
            f"{ROOT}/{ACL_USERNAME}/{Channel.REPORT.value}",
            f"{ROOT}/{ACL_USERNAME}/{Channel.STATUS.value}",
        ),
        subscribe=(
            f"{ROOT}/{ACL_USERNAME}/{Channel.COMMAND.value}",
            f"{ROOT}/{ACL_USERNAME}/{Channel.RECEIPT.value}",
        ),
    )
