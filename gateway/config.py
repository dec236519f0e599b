"""The one Settings class. Every knob has a demo default and an ``EG_`` env var."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.resilience import ResiliencePolicy
from resolvers.context import GraphOptions
from workflows.paging import MAX_PAGE_SIZE

__all__ = ["DEFAULT_SANDBOX_PORT_BASE", "DEMO_JWT_SECRET", "Settings"]

DEFAULT_SANDBOX_PORT_BASE = 9100
# Signs the demo's tokens; the gateway logs a warning at startup while it is in use.
# At least 32 bytes: RFC 7518 §3.2 wants an HS256 key no shorter than the hash.
DEMO_JWT_SECRET = "eg-demo-jwt-secret-not-for-production"


def _sandbox_url(offset: int) -> str:
    return f"http://127.0.0.1:{DEFAULT_SANDBOX_PORT_BASE + offset}"


class Settings(BaseSettings):
    """Gateway configuration. Defaults run against the demo sandboxes."""

    model_config = SettingsConfigDict(env_prefix="EG_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    # No URL: an in-process Redis (fakeredis) that lives and dies with the process.
    redis_url: str | None = None
    redis_prefix: str = "eg:"
    redis_max_connections: int = Field(default=200, ge=4)  # per process; callers queue beyond

    salesforce_url: str = _sandbox_url(0)
    salesforce_client_id: str = "eg-demo-client"
    salesforce_client_secret: SecretStr = SecretStr("eg-demo-secret")

    kantata_url: str = _sandbox_url(1)
    kantata_token: SecretStr = SecretStr("kantata-demo-token")

    harvest_url: str = _sandbox_url(2)
    harvest_token: SecretStr = SecretStr("harvest-demo-token")
    harvest_account_id: str = "1234567"
    harvest_user_agent: str = "engagement-gateway (ops@example.com)"
    # Calls per 15 s the Harvest adapter allows itself (Harvest: 100 / 15 s per token).
    # Per replica: N replicas sharing one token should set 100 // N. "none" disables it.
    harvest_rate_limit: int | None = Field(default=100, ge=1)
    # Seconds the Harvest adapter serves WIP from the last Uninvoiced report (Harvest allows
    # 100 report calls / 15 min); approvals through the gateway drop it sooner. 0: no reuse.
    harvest_report_ttl_s: float = Field(default=60.0, ge=0)

    netsuite_url: str = _sandbox_url(3)
    netsuite_account_id: str = "1234567_SB1"
    netsuite_client_id: str = "eg-demo-client"
    netsuite_client_secret: SecretStr = SecretStr("eg-demo-secret")

    # Resilience policy, shared by every system's adapter.
    timeout_s: float = Field(default=5.0, gt=0)
    retry_max_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff_base_s: float = Field(default=0.1, ge=0)
    retry_backoff_max_s: float = Field(default=2.0, ge=0)
    retry_after_max_s: float = Field(default=10.0, ge=0)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_timeout_s: float = Field(default=15.0, gt=0)
    # Time budget of one HTTP request: vendor calls made for it wait at most the
    # time left, and no retry is started or slept for past it.
    request_budget_s: float = Field(default=8.0, gt=0)

    # Callers: bearer JWTs (HS256) signed with this secret, for this issuer and audience.
    # No token: an anonymous caller (queries only); a bad one: 401.
    jwt_secret: SecretStr = Field(default=SecretStr(DEMO_JWT_SECRET), min_length=32)
    jwt_issuer: str = "engagement-gateway"
    jwt_audience: str = "engagement-gateway"
    jwt_leeway_s: float = Field(default=30.0, ge=0, le=300)  # clock skew allowed on exp/iat

    # GET /metrics (Prometheus) and the HTTP request metrics.
    metrics_enabled: bool = True

    # /readyz probes each system with this timeout.
    readiness_timeout_s: float = Field(default=2.0, gt=0)

    # The graph.
    naive_fanout: bool = False  # baseline for benchmarks: no batching, no concurrency
    max_page_size: int = Field(default=MAX_PAGE_SIZE, ge=1, le=1000)
    reference_ttl_s: int = Field(default=300, ge=1)  # legal entities, rate cards, people
    as_of: date | None = None  # "today" for due billing-schedule lines; unset: the real date

    # Governed transitions.
    service_catalog_path: Path | None = None  # None: the packaged demo catalogue
    idempotency_ttl_s: int = Field(default=86_400, ge=60)  # how long a key returns its result
    operation_retention_s: int = Field(default=30 * 86_400, ge=3600)  # finished journals
    step_attempts: int = Field(default=3, ge=1, le=20)  # per saga step, then dead letter
    step_backoff_s: float = Field(default=0.5, ge=0)  # first retry of a failed step
    lease_ms: int = Field(default=10_000, ge=1000)  # a runner's hold on an operation
    resume_interval_s: float = Field(default=5.0, gt=0)  # sweep for orphaned operations
    event_processors: bool = True  # opportunity.won starts activation in this process
    event_max_deliveries: int = Field(default=5, ge=1)  # then a processed event is dead-lettered
    min_free_percent: int = Field(default=50, ge=0, le=100)  # delivery readiness
    over_allocation_threshold_percent: int = Field(default=100, ge=1, le=300)
    closed_through: date | None = None  # billing periods ending on or before it are closed

    # Live feed (subscriptions): event stream retention, per-subscriber and per-caller limits.
    event_retention_s: int = Field(default=604_800, ge=0)  # events kept this long; 0: forever
    event_stream_maxlen: int = Field(default=1_000_000, ge=1)  # and at most this many
    event_trim_interval_s: float = Field(default=60.0, gt=0)  # how often retention runs
    ws_init_timeout_s: float = Field(default=5.0, gt=0)  # connection_init within, else 4408
    subscriber_queue_size: int = Field(default=1000, ge=1)  # events behind, then SLOW_CONSUMER
    max_subscriptions_per_connection: int = Field(default=20, ge=1)  # running at once
    max_connections_per_principal: int = Field(default=50, ge=1)  # WebSocket + SSE, per process

    # Inbound change sync (workflows/inbound.py): each system polled every so many seconds
    # (0: no polling; webhooks still sync), re-reading this much of the past each time.
    sync_poll_interval_s: float = Field(default=1.0, ge=0)
    sync_overlap_s: int = Field(default=5, ge=0, le=3600)

    # Inbound webhooks (gateway/webhooks.py): HMAC key of X-EG-Signature; unset refuses them (503).
    webhook_secret: SecretStr | None = Field(default=None, min_length=16)
    webhook_tolerance_s: int = Field(default=300, ge=1, le=3600)  # signature age allowed, +/-

    @field_validator("harvest_rate_limit", mode="before")
    @classmethod
    def _none_disables(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "none", "off"):
            return None
        return value

    def graph_options(self) -> GraphOptions:
        return GraphOptions(
            naive=self.naive_fanout,
            max_page_size=self.max_page_size,
            as_of=self.as_of,
            health_timeout_s=self.readiness_timeout_s,
        )

    def resilience_policy(self) -> ResiliencePolicy:
        return ResiliencePolicy(
            timeout_s=self.timeout_s,
            max_attempts=self.retry_max_attempts,
            backoff_base_s=self.retry_backoff_base_s,
            backoff_max_s=self.retry_backoff_max_s,
            retry_after_max_s=self.retry_after_max_s,
            breaker_failure_threshold=self.breaker_failure_threshold,
            breaker_reset_timeout_s=self.breaker_reset_timeout_s,
        )
