"""Refused messages: counted by reason, logged (truncated), and appended to a JSONL file."""

from __future__ import annotations

import base64
import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

from contract.decode import Rejection
from ingest.metrics import Metrics

logger = logging.getLogger(__name__)

MAX_KEPT_PAYLOAD = 4096


class DeadLetters:
    def __init__(self, metrics: Metrics, path: Path | None) -> None:
        self._metrics = metrics
        self._path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def add(self, topic: str, payload: bytes, rejection: Rejection) -> None:
        self._metrics.inc("dead_letters", reason=rejection.reason.value)
        logger.warning(
            "refused a message on %.120s: %s: %s", topic, rejection.reason.value, rejection.detail
        )
        if self._path is None:
            return
        kept = payload[:MAX_KEPT_PAYLOAD]
        try:
            body: dict[str, str] = {"payload": kept.decode("utf-8")}
        except UnicodeDecodeError:
            body = {"payload_base64": base64.b64encode(kept).decode()}
        record = {
            "at": datetime.now(UTC).isoformat(),
            "reason": rejection.reason.value,
            "detail": rejection.detail,
            "topic": topic[:300],
            "payload_bytes": len(payload),
            **body,
        }
        with self._lock, self._path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
