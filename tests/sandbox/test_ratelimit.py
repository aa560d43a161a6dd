"""The Hub's rate limits in the sandbox: buckets, tiers, headers on every answer, 429 past the quota,
fixed 5-minute windows on the simulated clock; checked with the unmodified huggingface_hub client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import parse_ratelimit_headers

from remedybot.sandbox.server import Sandbox


@pytest.fixture(autouse=True)
def _no_request_budget() -> Iterator[None]:
    """These tests mean to meet the sandbox's 429s; remedybot's request budget (installed in huggingface_hub's
    shared client by any earlier test of the process) would wait before the quota instead."""
    from remedybot.hub import budget as budgets

    budgets.configure(enabled=False)
    yield
    budgets.configure()


@pytest.fixture
def limited() -> Iterator[Sandbox]:
    """A sandbox whose free tier allows 5 API requests per window, on a clock at real pace."""
    with Sandbox(load_default_scenarios=False, clock_speed=1.0, quotas={"free": {"api": 5}, "anonymous": {"api": 2}},
                 users={"pro-user": ("hf_pro_token", "pro")}) as sb:
        sb.state.create_repo("model", "demo/m", initial_files={"a.txt": b"a"})
        now = sb.state.clock.now()
        sb.state.clock.advance(300 - now % 300 + 0.001)  # at a window's start: a test's requests share one window
        yield sb


def _get(sb: Sandbox, path: str, token: str | None = None) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.get(f"{sb.endpoint}{path}", headers=headers)


def test_past_the_quota_the_client_gets_429_with_the_headers(limited: Sandbox) -> None:
    api = HfApi(endpoint=limited.endpoint, token=limited.token)
    for _ in range(5):
        api.model_info("demo/m")
    with pytest.raises(HfHubHTTPError) as refused:
        api.model_info("demo/m")
    response = refused.value.response
    assert response.status_code == 429
    info = parse_ratelimit_headers(response.headers)
    assert info is not None and (info.resource_type, info.remaining, info.limit, info.window_seconds) == \
        ("api", 0, 5, 300)
    assert 0 < info.reset_in_seconds <= 300
    assert int(response.headers["Retry-After"]) == info.reset_in_seconds
    assert "5 api requests per 5 minutes" in response.headers["X-Error-Message"]
    assert limited.app.request_log[-1] == ("GET", "/api/models/demo/m", 429)

    limited.state.clock.advance(info.reset_in_seconds)  # the next window
    assert api.model_info("demo/m").id == "demo/m"


def test_every_counted_answer_carries_the_headers_of_its_bucket_and_tier(limited: Sandbox) -> None:
    first = _get(limited, "/api/models/demo/m", limited.token)
    assert first.headers["RateLimit-Policy"] == '"fixed window";"api";q=5;w=300'
    assert first.headers["RateLimit"].startswith('"api";r=4;t=')
    assert _get(limited, "/api/models/demo/m", limited.token).headers["RateLimit"].startswith('"api";r=3;t=')
    pro = _get(limited, "/api/models/demo/m", "hf_pro_token")
    assert pro.headers["RateLimit-Policy"] == '"fixed window";"api";q=2500;w=300'
    resolve = _get(limited, "/demo/m/resolve/main/a.txt", limited.token)
    assert resolve.status_code == 200 and resolve.headers["RateLimit-Policy"].endswith('"resolvers";q=5000;w=300')
    git = _get(limited, "/demo/m.git/info/refs?service=git-upload-pack", limited.token)
    assert git.headers["RateLimit"].startswith('"resolvers";r=4998;')
    page = _get(limited, "/demo/m")
    assert page.headers["RateLimit-Policy"] == '"fixed window";"pages";q=100;w=300'  # anonymous
    missing = _get(limited, "/api/models/demo/nothing", limited.token)  # errors count too
    assert missing.status_code == 404 and missing.headers["RateLimit"].startswith('"api";r=2;')


def test_the_app_probe_status_page_and_admin_routes_are_not_counted(empty_sandbox: Sandbox) -> None:
    for path in ("/_sandbox/app/demo/none", "/_sandbox/status/index.json"):
        assert "RateLimit" not in _get(empty_sandbox, path).headers


def test_anonymous_requests_count_per_ip_apart_from_users(limited: Sandbox) -> None:
    assert [_get(limited, "/api/models/demo/m").status_code for _ in range(3)] == [200, 200, 429]
    refused = _get(limited, "/api/models/demo/m")
    assert "We had to rate limit your IP (127.0.0.1)" in refused.headers["X-Error-Message"]
    assert _get(limited, "/api/models/demo/m", limited.token).status_code == 200


def test_rate_limits_can_be_turned_off() -> None:
    with Sandbox(load_default_scenarios=False, rate_limits=False) as sb:
        assert "RateLimit" not in _get(sb, "/api/whoami-v2", sb.token).headers


def test_an_unknown_tier_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown rate-limit tier 'gold'"):
        Sandbox(load_default_scenarios=False, users={"bob": ("tok", "gold")})
