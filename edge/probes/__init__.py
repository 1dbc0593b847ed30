"""Probe plugins, one file per kind, registered here by their ``type`` tag.

To add a probe: write ``edge/probes/<name>.py`` with a ``ProbeConfig`` subclass (``type`` literal,
``build()``) and a ``Probe`` subclass, then add the config class to ``DeviceConfig`` below.
"""

from typing import Annotated

from pydantic import Field

from edge.probes.base import Probe, ProbeConfig
from edge.probes.camera import CameraSnapshotConfig
from edge.probes.link import TcpLinkConfig

DeviceConfig = Annotated[CameraSnapshotConfig | TcpLinkConfig, Field(discriminator="type")]

__all__ = ["DeviceConfig", "Probe", "ProbeConfig"]
