from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from api.deps import influx
from tsdb.influxql import InfluxQL

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database reachability (no data, no login)")
def healthz(response: Response, db: Annotated[InfluxQL, Depends(influx)]) -> dict[str, str]:
    ok = db.ping()
    if not ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ok" if ok else "degraded", "influxdb": "ok" if ok else "unreachable"}
