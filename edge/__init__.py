"""The edge agent: runs on the cultural-house PC, probes the area's devices, reports over MQTT.

Depends only on the shared contract, pydantic, paho-mqtt and OpenCV: nothing server-side.
"""

__version__ = "0.1.0"
