"""A Salesforce org over HTTP: OAuth 2.0, REST API v60.0 (SOQL, sObjects, upsert, collections).

Another company's software as far as the product is concerned: it imports
nothing from gateway/, resolvers/, workflows/, adapters/ or domain/.
"""

from sandboxes.salesforce.app import SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET, create_app
from sandboxes.salesforce.auth import SALESFORCE_PASSWORD
from sandboxes.salesforce.from_firm import INTEGRATION_USERNAME

__all__ = [
    "INTEGRATION_USERNAME",
    "SALESFORCE_CLIENT_ID",
    "SALESFORCE_CLIENT_SECRET",
    "SALESFORCE_PASSWORD",
    "create_app",
]
