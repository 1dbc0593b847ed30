"""The API against its own OpenAPI schema: schemathesis generates requests for every operation,
valid and invalid, and the real API process must never answer 5xx, nor answer outside what the
schema declares (status codes, content types, bodies).

Runs twice, as an admin and as a leader scoped to one area, so the scope checks of every route
are fuzzed too. Deterministic (derandomized Hypothesis, no example database) and bounded
(``EXAMPLES`` per operation, mode and role): a failure here comes back when the test is re-run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contract import topics
from contract.models import DeviceResult, Report
from devstack.stack import Stack
from tests.integration.conftest import api_get, phu_tho_catalog, publisher, wait_for

AnyCase = Case[Any]
Operation = APIOperation[Any, Any, Any, Any]
A, A2, B = "son-vi-khu-6", "son-vi-khu-7", "phuc-khanh-thon-1"
CRITERIA_SET = "qd318-tieu-chi-8"  # built in: python -m api load-criteria
VIETNAM = timezone(timedelta(hours=7))
CATALOG = phu_tho_catalog(
    {
        "name": "Khu 6 — Nhà văn hoá",
        "agents": ["nvh"],
        "devices": [{"id": "cam-cong-cho", "kind": "camera"}, {"id": "uplink", "kind": "uplink"}],
    },
    {"name": "Khu 7 Đồng Lạc"},
    {"name": "Thôn 1 Phúc Khánh"},
)

# Checks that must hold for every response. Left out on purpose:
# - positive_data_acceptance: the API has rules JSON Schema cannot state (from < to, windows of at
#   most 3 years, maintenance times in local wall-clock time, a known user for an API token), so
#   schema-valid requests are rightly refused with 422;
# - negative_data_rejection: pydantic reads a number as a Unix time where the schema says
#   date-time (``until=0.5``), which is lenient, not wrong;
# - allow_header_conformance: Starlette's 405 lists the methods of the first route matching the
#   path only (GET /catalog and POST /catalog are two routes), a framework limitation.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]
# Examples per operation and mode: the admin reaches every handler; the leader's run is there for
# the scope checks, which refuse early, so fewer examples say as much.
EXAMPLES = {
    "admin": {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 8},
    "leader": {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 5},
}
# POST /auth/logout revokes the very token the run uses: everything after it would be 401.
# Logout is covered by test_api_access.
SKIPPED = {"POST /auth/logout"}


@dataclass
class Tally:
    """What the run sent and got back, to show that it reached the handlers."""

    tested: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    answered_2xx: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Known:
    """Values that exist, mixed in with generated ones: random slugs and ids alone would only
    ever meet 404, and random windows only 422."""

    paths: list[dict[str, Any]]
    query: dict[str, Any]


def _seed(stack: Stack) -> Known:
    """A catalog, a stored report, a maintenance window, the built-in criteria sets and an issued
    certification report: something for every route to find."""
    stack.load_catalog(CATALOG)
    stack.api_cli("load-criteria")
    now = datetime.now(UTC)
    report = Report(
        area_id=A,
        agent_id="nvh",
        seq=1,
        observed_at=now,
        interval_s=60,
        results=[
            DeviceResult(device_id="uplink", kind="uplink", status="up", duration_ms=3.0),
            DeviceResult(
                device_id="cam-cong-cho",
                kind="camera",
                status="down",
                reason="timeout",
                duration_ms=2000.0,
            ),
        ],
    )
    with publisher(stack.mosquitto.port) as publish:
        publish(topics.report_topic(A, "nvh"), report.to_json())
    wait_for(
        lambda: api_get(stack, f"/areas/{A}/status")[1]["counts"]["down"] == 1,
        "the report to be stored",
    )
    admin = {"Authorization": f"Bearer {stack.api_token}"}
    window = {
        "starts_local": "2026-12-06T06:00",
        "ends_local": "2026-12-06T08:00",
        "reason": "Thay camera cổng chợ",
    }
    planned = requests.post(
        f"{stack.api_url}/areas/{A}/maintenance", json=window, headers=admin, timeout=10
    )
    assert planned.status_code == 201, planned.text
    query = {
        # a day: the shortest window a certificate may cover (docs/availability.md)
        "from": (now - timedelta(days=1)).astimezone(VIETNAM).isoformat(),
        "to": (now + timedelta(minutes=5)).astimezone(VIETNAM).isoformat(),
        "set": CRITERIA_SET,
        "device": "uplink",
        "metric": "rtt_ms",
    }
    issued = requests.post(
        f"{stack.api_url}/areas/{A}/reports",
        params={k: query[k] for k in ("set", "from", "to")},
        headers=admin,
        timeout=30,
    )
    assert issued.status_code == 201, issued.text
    return Known(
        paths=[
            {"area_id": A},
            {"area_id": B},
            {"commune_id": "son-vi"},
            {"commune_id": "phuc-khanh"},
            {"province_id": "phu-tho"},
            {"area_id": A, "window_id": planned.json()["id"]},
            {"area_id": A, "report_id": issued.json()["id"]},
        ],
        query=query,
    )


def _strategy(
    operation: Operation, mode: GenerationMode, known: Known
) -> st.SearchStrategy[AnyCase]:
    names = {p.name for p in operation.path_parameters}
    query = {k: v for k, v in known.query.items() if k in {p.name for p in operation.query}}
    variants = [operation.as_strategy(mode)]
    if query:
        variants.append(operation.as_strategy(mode, query=query))
    for values in known.paths:
        if set(values) <= names:
            variants.append(operation.as_strategy(mode, path_parameters=values))
            if query:
                variants.append(operation.as_strategy(mode, path_parameters=values, query=query))
    return st.one_of(variants)


def _fuzz(
    operation: Operation,
    mode: GenerationMode,
    examples: int,
    known: Known,
    send: Callable[[AnyCase], None],
) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, mode, known))
    def run(case: AnyCase) -> None:
        send(case)

    run()


def _leader_may_see(case: AnyCase) -> bool:
    """Scoped to area A alone: no other area, and no commune as a whole."""
    path = case.path_parameters or {}
    return path.get("area_id", A) == A and "commune_id" not in path


def _run(stack: Stack, known: Known, role: str, token: str, tally: Tally) -> None:
    schema = schemathesis.openapi.from_url(
        f"{stack.api_url}/openapi.json", config=schemathesis.Config()
    )
    headers = {"Authorization": f"Bearer {token}"}
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:
            tally.failures.append(f"an operation the schema states wrongly: {result.err()}")
    operations.sort(key=lambda op: str(op.label))
    with requests.Session() as session:

        def send(case: AnyCase) -> None:
            response = case.call_and_validate(
                base_url=stack.api_url,
                session=session,
                headers=headers,
                checks=CHECKS,
                timeout=15,
            )
            tally.requests += 1
            tally.statuses[response.status_code] += 1
            if 200 <= response.status_code < 300:
                tally.answered_2xx.add(case.operation.label)
                assert role != "leader" or _leader_may_see(case), (
                    f"out of scope: {case.formatted_path}"
                )

        for operation in operations:
            if operation.label in SKIPPED:
                continue
            tally.tested.add(operation.label)
            for mode, examples in EXAMPLES[role].items():
                try:
                    _fuzz(operation, mode, examples, known, send)
                except Unsatisfiable:
                    continue  # nothing invalid to generate (no parameters, no body)
                except (Exception, FailureGroup) as exc:  # every failing operation is reported
                    tally.failures.append(f"{operation.label} ({mode.value}): {exc}"[:3000])


def _leader_token(stack: Stack) -> str:
    output = stack.api_cli(
        "create-user", "truong-khu-6", "--role", "leader", "--area", A, "--with-token", "fuzz"
    )
    return output.split("token:", 1)[1].strip()


@pytest.mark.parametrize("role", ["admin", "leader"])
def test_fuzzed_requests_get_no_5xx_and_answers_match_the_schema(stack: Stack, role: str) -> None:
    known = _seed(stack)
    token = stack.api_token if role == "admin" else _leader_token(stack)
    tally = Tally()
    _run(stack, known, role, token, tally)
    assert not tally.failures, "\n\n".join(tally.failures)
    assert not any(code >= 500 for code in tally.statuses), tally.statuses
    print(  # the figures for the closing note (pytest -s)
        f"{role}: operations={len(tally.tested)} requests={tally.requests} "
        f"2xx_operations={len(tally.answered_2xx)} statuses={dict(sorted(tally.statuses.items()))}"
    )
    # The run reached the handlers, not just the token check.
    never = sorted(tally.tested - tally.answered_2xx)
    assert len(tally.answered_2xx) >= (25 if role == "admin" else 15), f"never 2xx: {never}"
    if role == "leader":
        # Refusals were met: admin-only routes (403) and areas out of scope (404).
        assert tally.statuses[403] > 0 and tally.statuses[404] > 0, tally.statuses


def test_out_of_range_ids_and_times_are_refused_not_crashed(stack: Stack) -> None:
    """What the fuzzing found: each of these answered 500 (an id past SQLite's and PostgreSQL's
    integers, a time that an offset pushes past year 1 or 9999 or out of InfluxDB's range), and a
    maintenance window in year 1 was stored and then broke the area's availability for good."""
    known = _seed(stack)
    big, far = 2**70, "0001-01-01T00:00:00+01:00"
    window = f"from={known.query['from']}&to={known.query['to']}".replace("+", "%2B")
    refused = [
        ("GET", f"/areas/{A}/incidents/{big}", None),
        ("POST", f"/areas/{A}/incidents/{big}/notes", {"note": "Đã kiểm tra"}),
        ("GET", f"/areas/{A}/reports/{big}", None),
        ("GET", f"/areas/{A}/reports/{big}/verify", None),
        ("DELETE", f"/areas/{A}/maintenance/{big}", None),
        ("GET", f"/audit?before_id={big}", None),
        ("GET", f"/areas/{A}/availability?{window}&resolution_s={10**20}", None),
        ("GET", f"/areas/{A}/availability?from={far}&to=0001-01-02T00:00:00Z", None),
        ("GET", f"/areas/{A}/availability?from=1000-01-01T00:00:00Z&to=1001-01-01T00:00:00Z", None),
        (
            "GET",
            f"/areas/{A}/series?device=uplink&metric=rtt_ms&from={far}&to=0001-01-02T00:00Z",
            None,
        ),
        ("GET", "/incidents?until=9999-12-31T23:59:00-01:00", None),
        ("GET", f"/incidents/stats?since={far}", None),
        ("GET", f"/areas/{A}/criteria?set={CRITERIA_SET}&from={far}&to=0001-01-02T00:00Z", None),
        (
            "GET",
            f"/communes/son-vi/criteria?set={CRITERIA_SET}&from={far}&to=0001-01-02T00:00Z",
            None,
        ),
        (
            "POST",
            f"/areas/{A}/maintenance",
            {"starts_local": "0001-01-01T00:00", "ends_local": "0001-01-01T02:00", "reason": "Thử"},
        ),
    ]
    admin = {"Authorization": f"Bearer {stack.api_token}"}
    with requests.Session() as session:
        for method, path, body in refused:
            url = stack.api_url + path.replace("+", "%2B")
            response = session.request(method, url, json=body, headers=admin, timeout=30)
            assert response.status_code == 422, (method, path, response.status_code)
        # Control characters in text: NUL is a 500 on PostgreSQL, the rest garble the pages.
        controlled = [
            ("PATCH", f"/areas/{A}", {"name": "Khu\u0000 6", "reason": "Đổi tên"}),
            ("POST", f"/areas/{A}/incidents/1/notes", {"note": "Đã kiểm tra\u001b[31m"}),
            (
                "POST",
                f"/areas/{A}/maintenance",
                {"starts_local": "2026-01-01T00:00", "ends_local": "2026-01-01T02:00",
                 "reason": "Lau\u0000 camera"},
            ),
        ]  # fmt: skip
        for method, path, body in controlled:
            response = session.request(
                method, stack.api_url + path, json=body, headers=admin, timeout=30
            )
            assert response.status_code == 422, (method, path, response.status_code)
            assert "control characters" in response.text, response.text
        availability = session.get(
            f"{stack.api_url}/areas/{A}/availability?{window}", headers=admin, timeout=30
        )
        assert availability.status_code == 200, availability.text
