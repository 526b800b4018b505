"""The HTTP body: the fast encoding path gives exactly the text of the careful one."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from feature_jobs.online.response import OnlineResponse
from feature_jobs.serving_rule import Status

T1 = datetime(2024, 3, 31, 0, 0, tzinfo=UTC)
T2 = datetime(2024, 3, 31, 1, 0, 0, 5, tzinfo=UTC)


def _response(values: list[list[object]]) -> OnlineResponse:
    n = len(values)
    return OnlineResponse(
        features=("v:a", "v:b", "w:c"),
        entities=[{"user_id": i, "name": "zoë"} for i in range(n)],
        values=values,
        statuses=[[Status.PRESENT, Status.MISSING, Status.STALE] for _ in range(n)],
        feature_ts=[[T1, T1, None] if i % 2 else [T2, T2, T1] for i in range(n)],
    )


def test_plain_values_take_the_fast_path_and_match_to_dict() -> None:
    response = _response([[1, 2.5, "x"], [None, -0.0, "ü"], [3, 1e308, ""]])
    text = response.to_json()
    assert text == json.dumps(response.to_dict(), ensure_ascii=False, separators=(",", ":"))
    body = json.loads(text)
    assert body["results"][1]["statuses"] == ["PRESENT", "MISSING", "STALE"]
    assert body["results"][0]["feature_ts"] == ["2024-03-31T01:00:00.000005Z"] * 2 + [
        "2024-03-31T00:00:00Z"
    ]
    assert body["results"][1]["feature_ts"] == ["2024-03-31T00:00:00Z"] * 2 + [None]
    assert body["results"][1]["entity"] == {"user_id": 1, "name": "zoë"}


def test_nan_infinity_and_timestamp_values_fall_back_to_strings() -> None:
    response = _response([[math.nan, math.inf, T2], [-math.inf, 1.0, None]])
    body = json.loads(response.to_json())
    assert body["results"][0]["values"] == ["NaN", "Infinity", "2024-03-31T01:00:00.000005Z"]
    assert body["results"][1]["values"] == ["-Infinity", 1.0, None]
    assert response.to_json() == json.dumps(
        response.to_dict(), ensure_ascii=False, separators=(",", ":")
    )
