"""Probe plugins, one file per kind, registered here by their ``type`` tag.

To add a probe: write ``edge/probes/<name>.py`` with a ``ProbeConfig`` subclass (``type`` literal,
``build()``) and a ``Probe`` subclass, then add the config class to ``DeviceConfig`` below.
"""

from typing import Annotated

from pydantic import Field

from edge.probes.base import Probe, ProbeConfig
from edge.probes.camera import CameraSnapshotConfig
from edge.probes.device import DeviceCheckConfig
from edge.probes.link import TcpLinkConfig
from edge.probes.pc import PcConfig
from edge.probes.rtsp import CameraRtspConfig
from edge.probes.uplink import UplinkConfig

DeviceConfig = Annotated[
    CameraSnapshotConfig
    | CameraRtspConfig
    | TcpLinkConfig
    | UplinkConfig
    | DeviceCheckConfig
    | PcConfig,
    Field(discriminator="type"),
]

__all__ = ["DeviceConfig", "Probe", "ProbeConfig"]
