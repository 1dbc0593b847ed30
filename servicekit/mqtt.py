"""The MQTT v5 client of a server-side consumer: fixed client id, manual acknowledgement."""

from __future__ import annotations

import logging

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr


def consumer_client(
    client_id: str, username: str | None, password: SecretStr | None, log_name: str
) -> mqtt.Client:
    """A client that acknowledges each message itself (after its work is stored) and reconnects
    with backoff; the caller sets its callbacks and connects with its own session properties."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True
    )
    client.enable_logger(logging.getLogger(log_name))
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    if username is not None:
        client.username_pw_set(username, password.get_secret_value() if password else None)
    return client
