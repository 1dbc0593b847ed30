"""InfluxDB 2.x / 3.x / Cloud through ``influxdb-client``'s WriteApi (``POST /api/v2/write``).

Same lines, same error classes as ``InfluxV1Writer`` (see ``tsdb.writer``): the client's own
retries are off, so classification and backoff happen in one place, at our boundary.
"""

from __future__ import annotations

from typing import Any

import urllib3
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from tsdb.writer import Retryable, classify


class InfluxV2Writer:
    def __init__(
        self, url: str, org: str, bucket: str, token: str, timeout_s: float = 10.0
    ) -> None:
        self._bucket = bucket
        self._org = org
        self._client = InfluxDBClient(
            url=url, token=token, org=org, timeout=int(timeout_s * 1000), retries=False
        )
        self._api: Any = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        try:
            self._api.write(
                bucket=self._bucket,
                org=self._org,
                record="\n".join(lines).encode("utf-8"),
                write_precision=WritePrecision.NS,
            )
        except ApiException as exc:
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else ""
            error = classify(int(exc.status or 0), exc.headers, body or str(exc.reason))
            if error is None:  # pragma: no cover - the client raises only for failures
                return
            raise error from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Retryable(f"InfluxDB unreachable: {type(exc).__name__}") from None

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]
