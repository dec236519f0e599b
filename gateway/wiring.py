"""Builds the adapters for the four systems from Settings (composition root helper)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from adapters.harvest import HarvestAdapter
from adapters.kantata import KantataAdapter
from adapters.netsuite import NetSuiteAdapter
from adapters.salesforce import SalesforceAdapter
from gateway.config import Settings
from workflows.systems import Systems

__all__ = ["build_systems"]


def build_systems(
    settings: Settings, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
) -> Systems:
    """One adapter per system. `transports` (by system name) is for in-process tests."""
    policy = settings.resilience_policy()
    t = dict(transports or {})
    return Systems(
        crm=SalesforceAdapter(
            base_url=settings.salesforce_url,
            client_id=settings.salesforce_client_id,
            client_secret=settings.salesforce_client_secret.get_secret_value(),
            policy=policy,
            transport=t.get("salesforce"),
        ),
        psa=KantataAdapter(
            base_url=settings.kantata_url,
            token=settings.kantata_token.get_secret_value(),
            policy=policy,
            transport=t.get("kantata"),
        ),
        time=HarvestAdapter(
            base_url=settings.harvest_url,
            token=settings.harvest_token.get_secret_value(),
            account_id=settings.harvest_account_id,
            user_agent=settings.harvest_user_agent,
            policy=policy,
            rate_limit=settings.harvest_rate_limit,
            report_ttl_s=settings.harvest_report_ttl_s,
            transport=t.get("harvest"),
        ),
        erp=NetSuiteAdapter(
            base_url=settings.netsuite_url,
            account_id=settings.netsuite_account_id,
            client_id=settings.netsuite_client_id,
            client_secret=settings.netsuite_client_secret.get_secret_value(),
            policy=policy,
            transport=t.get("netsuite"),
        ),
    )
