"""InfluxDB 2.x / 3.x / Cloud through ``influxdb-client``'s WriteApi (``POST /api/v2/write``).

Same lines, same error classes as ``InfluxV1Writer`` (see ``tsdb.writer``): the client's own
retries are off, so classification and backoff happen in one place, at our boundary.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import urllib3
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from tsdb.writer import Retryable, WriteError, classify


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
        error: WriteError | None = None
        try:
            self._api.write(
                bucket=self._bucket,
                org=self._org,
                record="\n".join(lines).encode("utf-8"),
                write_precision=WritePrecision.NS,
            )
        except ApiException as exc:
            body = exc.body if isinstance(exc.body, str) else ""
            if isinstance(exc.body, bytes):
                body = exc.body.decode("utf-8", "replace")
            error = classify(int(exc.status or 0), exc.headers, body or str(exc.reason))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            error = Retryable(f"InfluxDB unreachable: {type(exc).__name__}")
        if error is not None:
            # Raised outside the handler: the client's exception (which holds the HTTP response
            # and its socket) is neither chained nor kept alive by ours.
            raise error

    def erase(self, measurements: set[str], tags: dict[str, str], time_ns: int) -> None:
        when = datetime.fromtimestamp(time_ns / 1e9, UTC)
        common = " AND ".join(f'{k}="{v}"' for k, v in sorted(tags.items()))
        try:
            for measurement in sorted(measurements):
                self._client.delete_api().delete(
                    when,
                    when,
                    f'_measurement="{measurement}" AND {common}',
                    self._bucket,
                    self._org,
                )
        except ApiException as exc:
            raise Retryable(f"InfluxDB did not delete ({exc.status})") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Retryable(f"InfluxDB unreachable: {type(exc).__name__}") from None

    def close(self) -> None:
        # The generated API client keeps the last HTTP response, and with it the socket, open
        # past close(): drop it so closing really closes.
        api_client = getattr(self._client, "api_client", None)
        if api_client is not None:
            api_client.last_response = None
        self._client.close()  # type: ignore[no-untyped-call]
