"""Shared fixtures: the seeded demo firm (built once per session)."""

from __future__ import annotations

import pytest

from sandboxes.firm import Firm
from sandboxes.seed import generate_firm

DEMO_SEED = 42


@pytest.fixture(scope="session")
def firm() -> Firm:
    return generate_firm(DEMO_SEED)
