"""The consumers' MQTT client (servicekit.mqtt) against the real Mosquitto: plain paho with manual
acknowledgement. Every message arrives whole, in order, with its properties, large ones spanning
many socket reads included, and its public ``ack()`` is what lets the broker send more (ingest
acknowledges through it once a batch is stored).
"""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devstack.servers import Mosquitto
from servicekit.mqtt import consumer_client
from tests.integration.conftest import wait_for

COUNT = 400
RECEIVE_MAXIMUM = 20  # far fewer than COUNT: without acks the broker would stop at 20


def _payload(i: int) -> bytes:
    """Mostly small messages, every 50th of 128 KiB (it spans many socket reads)."""
    size = 131_089 if i % 50 == 7 else 100 + i
    return (f"{i:05d}:Sơn Vi ".encode() * (size // 16 + 1))[:size]


def test_every_message_arrives_whole_and_each_ack_frees_the_receive_window(
    mosquitto: Mosquitto,
) -> None:
    received: list[tuple[str, bytes, dict[str, object]]] = []
    subscribed = threading.Event()
    consumer = consumer_client("test-consumer", None, None, "test.consumer")

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        props = message.properties
        received.append(
            (
                message.topic,
                bytes(message.payload),
                {
                    "user": getattr(props, "UserProperty", None),
                    "expiry": getattr(props, "MessageExpiryInterval", None),
                    "type": getattr(props, "ContentType", None),
                },
            )
        )
        client.ack(message.mid, message.qos)

    consumer.on_message = on_message
    consumer.on_connect = lambda client, *_: client.subscribe("t/#", 1)
    consumer.on_subscribe = lambda *_: subscribed.set()
    connect = Properties(PacketTypes.CONNECT)
    connect.ReceiveMaximum = RECEIVE_MAXIMUM
    consumer.connect("127.0.0.1", mosquitto.port, properties=connect)
    consumer.loop_start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.connect("127.0.0.1", mosquitto.port)
    publisher.loop_start()
    try:
        assert subscribed.wait(10)
        for i in range(COUNT):
            props = Properties(PacketTypes.PUBLISH)
            if i % 3 == 0:
                props.UserProperty = [("khu", "Phúc Khánh"), ("i", str(i))]
                props.MessageExpiryInterval = 600 + i
                props.ContentType = "application/json"
            publisher.publish(f"t/{i % 7}", _payload(i), qos=1, properties=props)
        wait_for(lambda: len(received) == COUNT, f"{COUNT} messages")
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        consumer.disconnect()
        consumer.loop_stop()
    # One publisher, one subscription: the broker keeps the order.
    for i, (topic, payload, seen) in enumerate(received):
        assert (topic, payload) == (f"t/{i % 7}", _payload(i))
        if i % 3 == 0:
            assert seen == {
                "user": [("khu", "Phúc Khánh"), ("i", str(i))],
                "expiry": 600 + i,
                "type": "application/json",
            }
        else:
            assert seen == {"user": None, "expiry": None, "type": None}
