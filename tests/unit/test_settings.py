"""Settings: demo defaults, EG_ environment variables, validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config import Settings


def test_defaults_point_at_the_demo_sandboxes_and_embedded_redis() -> None:
    s = Settings()
    assert s.redis_url is None
    assert [s.salesforce_url, s.kantata_url, s.harvest_url, s.netsuite_url] == [
        f"http://127.0.0.1:{p}" for p in (9100, 9101, 9102, 9103)
    ]


def test_environment_variables_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EG_SALESFORCE_URL", "https://acme.my.salesforce.com")
    monkeypatch.setenv("EG_HARVEST_TOKEN", "secret-token")
    monkeypatch.setenv("EG_REDIS_URL", "redis://cache:6379/2")
    monkeypatch.setenv("EG_TIMEOUT_S", "1.5")
    s = Settings()
    assert s.salesforce_url == "https://acme.my.salesforce.com"
    assert s.harvest_token.get_secret_value() == "secret-token"
    assert "secret-token" not in repr(s)
    assert s.redis_url == "redis://cache:6379/2"
    assert s.resilience_policy().timeout_s == 1.5


def test_nonsense_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EG_RETRY_MAX_ATTEMPTS", "0")
    with pytest.raises(ValidationError, match="retry_max_attempts"):
        Settings()


def test_harvest_rate_limit_can_be_set_or_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().harvest_rate_limit == 100
    monkeypatch.setenv("EG_HARVEST_RATE_LIMIT", "25")
    assert Settings().harvest_rate_limit == 25
    monkeypatch.setenv("EG_HARVEST_RATE_LIMIT", "none")
    assert Settings().harvest_rate_limit is None
    monkeypatch.setenv("EG_HARVEST_RATE_LIMIT", "0")
    with pytest.raises(ValidationError):
        Settings()
