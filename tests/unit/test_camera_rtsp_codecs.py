"""The RTSP probe against H.264 and H.265 cameras: what real village cameras send.

The simulator's RTSP server encodes the camera's frames with a real ffmpeg (libx264 / libx265) and
packetizes them per RFC 6184 / RFC 7798; the probe reads them through OpenCV's real FFmpeg backend.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from contract.models import Status
from devstack.camsim import CameraFleet, Footage, find_footage
from devstack.processes import wait_until
from devstack.rtspsim import (
    AccessUnits,
    Codec,
    RtspServer,
    access_unit_packets,
    encoder_argv,
    nal_type,
    split_nals,
)
from edge.probes.rtsp import CameraRtspConfig, CameraRtspProbe

CODECS = [Codec.H264, Codec.H265]
# NAL unit headers: (AUD, parameter sets, IDR slice, non-IDR slice)
AUD = {Codec.H264: b"\x09\xf0", Codec.H265: b"\x46\x01\x50"}
PARAMETER_SETS = {
    Codec.H264: [b"\x67", b"\x68"],  # SPS, PPS
    Codec.H265: [b"\x40\x01", b"\x42\x01", b"\x44\x01"],  # VPS, SPS, PPS
}
IDR = {Codec.H264: b"\x65", Codec.H265: b"\x26\x01"}  # IDR / IDR_W_RADL
SLICE = {Codec.H264: b"\x41", Codec.H265: b"\x02\x01"}  # non-IDR / TRAIL_R
IDR_TYPES = {Codec.H264: {5}, Codec.H265: {19, 20}}
SPS_TYPE = {Codec.H264: 7, Codec.H265: 33}
PPS_TYPE = {Codec.H264: 8, Codec.H265: 34}


@pytest.fixture(scope="module")
def footage() -> Footage:
    return Footage(find_footage(), max_frames=30)


def _ffmpeg_children() -> list[int]:
    """Our ffmpeg children, running or zombie (not yet reaped)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # it ended meanwhile
        comm = text[text.index("(") + 1 : text.rindex(")")]
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        if comm == "ffmpeg" and ppid == os.getpid():
            found.append(int(stat.parent.name))
    return found


def _nal(header: bytes, size: int, rng: np.random.Generator) -> bytes:
    """A NAL unit with this header and a body free of zero bytes (so no start code inside)."""
    return header + rng.integers(1, 256, size, dtype=np.uint8).tobytes()


def _depacketize(codec: Codec, packets: list[bytes]) -> list[bytes]:
    """RFC 6184 / RFC 7798 reassembly, written from the RFCs for this test."""
    nals: list[bytes] = []
    fragment: bytes | None = None
    header_size, fu_type, type_mask = (1, 28, 0x1F) if codec is Codec.H264 else (2, 49, 0x3F)
    for packet in packets:
        assert packet[0] == 0x80 and packet[1] & 0x7F == 96  # RTP v2, dynamic payload type
        payload = packet[12:]
        if nal_type(codec, payload) != fu_type:
            assert fragment is None, "a single NAL unit packet inside a fragmented NAL unit"
            nals.append(payload)
            continue
        fu_header = payload[header_size]
        kind = fu_header & type_mask
        if fu_header & 0x80:  # start
            assert fragment is None
            if codec is Codec.H264:
                fragment = bytes([(payload[0] & 0xE0) | kind])
            else:
                fragment = bytes([(payload[0] & 0x81) | (kind << 1), payload[1]])
        assert fragment is not None, "a fragment without its start"
        fragment += payload[header_size + 1 :]
        if fu_header & 0x40:  # end
            nals.append(fragment)
            fragment = None
    assert fragment is None, "an unfinished fragmented NAL unit"
    return nals


@pytest.mark.parametrize("codec", CODECS)
def test_fragmented_access_unit_reassembles_to_the_same_nal_units(codec: Codec) -> None:
    rng = np.random.default_rng(7)
    nals = [*(_nal(h, 20, rng) for h in PARAMETER_SETS[codec]), _nal(IDR[codec], 5000, rng)]
    nals.append(_nal(SLICE[codec], 1400 - len(SLICE[codec]), rng))  # exactly the MTU: not cut
    packets = access_unit_packets(codec, nals, seq=65530, timestamp=2**32 + 5, ssrc=9, mtu=1400)
    assert _depacketize(codec, packets) == nals
    assert len(packets) == len(PARAMETER_SETS[codec]) + 4 + 1  # the 5000-byte IDR in 4 FUs
    assert [p[1] >> 7 for p in packets] == [0] * (len(packets) - 1) + [1]  # marker on the last
    sequence = [int.from_bytes(p[2:4], "big") for p in packets]
    assert sequence == [(65530 + i) & 0xFFFF for i in range(len(packets))]  # wraps at 2**16
    assert {int.from_bytes(p[4:8], "big") for p in packets} == {5}  # one timestamp per unit
    assert max(len(p) for p in packets) <= 12 + 1400


@pytest.mark.parametrize("codec", CODECS)
def test_annexb_stream_in_odd_chunks_splits_into_access_units(codec: Codec) -> None:
    rng = np.random.default_rng(11)
    units = [
        [*(_nal(h, 30, rng) for h in PARAMETER_SETS[codec]), _nal(IDR[codec], 3000, rng)],
        [_nal(SLICE[codec], 900, rng), _nal(SLICE[codec], 10, rng)],  # two slices
        [_nal(SLICE[codec], 2, rng)],
    ]
    stream = b""
    for index, unit in enumerate([*units, []]):  # the closing delimiter ends the last unit
        for nal in [AUD[codec], *unit]:
            stream += (b"\x00\x00\x00\x01" if index % 2 == 0 else b"\x00\x00\x01") + nal
    reader = AccessUnits(codec)
    seen: list[list[bytes]] = []
    position = 0
    while position < len(stream):  # chunk edges fall inside NAL units and start codes
        size = int(rng.integers(1, 700))
        seen += reader.feed(stream[position : position + size])
        position += size
    assert seen == units
    assert split_nals(b"\x00\x00\x01\x09\xf0\x00\x00") == ([], b"\x00\x00\x01\x09\xf0\x00\x00")
    assert split_nals(b"junk\x00\x00") == ([], b"\x00\x00")  # a start code may be arriving


@pytest.mark.parametrize("codec", CODECS)
def test_the_encoder_sends_delimited_units_with_parameter_sets_before_each_keyframe(
    codec: Codec, footage: Footage
) -> None:
    jpegs = footage.jpegs[:12]  # at 10 fps a keyframe every 10 frames: two keyframes
    done = subprocess.run(
        encoder_argv(codec, 10.0),
        input=b"".join(jpegs),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    units = AccessUnits(codec).feed(done.stdout)
    assert len(units) == len(jpegs) - 1  # the last one waits for the next delimiter
    keyframes = [
        i for i, u in enumerate(units) if {nal_type(codec, n) for n in u} & IDR_TYPES[codec]
    ]
    assert keyframes == [0, 10]
    for index in keyframes:
        kinds = [nal_type(codec, nal) for nal in units[index]]
        assert SPS_TYPE[codec] in kinds and PPS_TYPE[codec] in kinds, kinds


def test_an_unknown_codec_is_refused_by_name(footage: Footage) -> None:
    with pytest.raises(ValueError, match=r"'h263'.*mjpeg, h264, h265"):
        CameraFleet(["cam-01"], footage, rtsp=True, rtsp_codec="h263")


def _probe(url: str, timeout_s: float = 6.0, **extra: object) -> CameraRtspProbe:
    # A generous timeout: on a busy machine a new session's encoder takes a while to start.
    config = {"id": "cam-01", "url": url, "timeout_s": timeout_s, "sample_s": 0.8, **extra}
    return CameraRtspConfig.model_validate(config).build()


@pytest.fixture(params=CODECS, ids=str)
def fleet(request: pytest.FixtureRequest, footage: Footage) -> Iterator[CameraFleet]:
    with CameraFleet(["cam-01"], footage, rtsp=True, rtsp_codec=request.param) as cameras:
        yield cameras


def test_probe_sees_frames_fps_and_black_and_covered_pictures(fleet: CameraFleet) -> None:
    camera = fleet["cam-01"]
    server = camera.rtsp_server
    assert isinstance(server, RtspServer) and server.codec is not Codec.MJPEG
    probe = _probe(camera.rtsp_url, confirm_after=1)
    healthy = probe.probe()
    assert (healthy.status, healthy.reason) == (Status.UP, None), healthy
    metrics = healthy.metrics
    assert (metrics["width_px"], metrics["height_px"], metrics["image"]) == (768, 576, "ok")
    # The camera sends 10 fps; a busy machine (x265 on 2 shared cores) was seen to deliver 7.8.
    assert 4 <= metrics["fps"] <= 15, metrics  # type: ignore[operator]
    assert metrics["frames"] >= 3 and metrics["stalls"] == 0, metrics  # type: ignore[operator]
    # The session ended with the probe's capture: its encoder is gone, not left behind.
    wait_until(lambda: not _ffmpeg_children(), 10, "the session's encoder to be reaped")
    for fault in ["black", "covered"]:
        camera.set_fault(fault)
        result = probe.probe()
        assert (result.status, result.reason) == (Status.DOWN, fault), result
    assert server.encoders_started == 3  # one encoder per playing session
    fleet.stop()
    assert not _ffmpeg_children()


def test_stalled_stream_sends_no_frame_and_costs_at_most_the_timeout(fleet: CameraFleet) -> None:
    camera = fleet["cam-01"]
    camera.set_fault("stalled")
    started = time.monotonic()
    stalled = _probe(camera.rtsp_url, timeout_s=1.5).probe()
    assert (stalled.status, stalled.reason) == (Status.DOWN, "no_frames"), stalled
    assert time.monotonic() - started < 3 * 1.5 + 1  # the agent's hard limit for this probe
    wait_until(lambda: not _ffmpeg_children(), 10, "the stalled session's encoder to be reaped")
