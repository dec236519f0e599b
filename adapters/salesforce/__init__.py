"""Salesforce (CRM) adapter: OAuth client credentials, SOQL batch reads, upserts."""

from adapters.salesforce.client import SalesforceAdapter
from adapters.salesforce.commands import OpportunityUpsert

__all__ = ["OpportunityUpsert", "SalesforceAdapter"]
