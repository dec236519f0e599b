"""The subscription benchmark still runs end to end (tiny: it checks the bench, not speed).

`bench.bench_subscriptions` starts a gateway on the real Redis, load-client
processes over graphql-transport-ws and SSE, and publishes through the
journal; nothing here is timed, only that every message was counted once.
"""

from __future__ import annotations

import os

import pytest
from redis import Redis
from redis.exceptions import RedisError

from bench import bench_subscriptions
from tests.redis_support import REAL_REDIS_URL

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.timeout(60)]

TINY = ["--subscribers", "10", "--clients", "1", "--keys", "5", "--rate", "20", "--seconds", "1"]


@pytest.fixture
def real_redis() -> None:
    """Skip without the real Redis (fail with EG_REQUIRE_REDIS=1); the bench deletes its
    own key prefix."""
    try:
        with Redis.from_url(REAL_REDIS_URL) as client:
            client.ping()
    except (RedisError, OSError) as exc:
        if os.environ.get("EG_REQUIRE_REDIS") == "1":
            pytest.fail(f"real Redis required at {REAL_REDIS_URL}: {exc}")
        pytest.skip(f"real Redis not reachable at {REAL_REDIS_URL}: {exc}")


@pytest.mark.usefixtures("real_redis")
def test_the_subscription_bench_delivers_and_counts_every_message_once() -> None:
    figures = bench_subscriptions.run(["--transport", "both", "--drain-s", "10", *TINY])
    assert set(figures) == {"ws", "sse"}
    for transport, found in figures.items():
        assert found.expected == 10 * 20 // 5, (transport, found)  # 20 events, 2 per subscriber
        assert (found.lost, found.duplicates, found.failed_subscribers) == (0, 0, 0), found
        assert found.peak_rss_mib > 0, found
