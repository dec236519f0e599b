"""NetSuite ERP adapter (REST Web Services: record v1 + SuiteQL, OAuth 2.0)."""

from __future__ import annotations

from adapters.netsuite.client import NetSuiteAdapter

__all__ = ["NetSuiteAdapter"]
