"""The operations GraphiQL opens with run as they are, without errors, on the demo firm."""

from __future__ import annotations

import pytest

from gateway.graphiql_examples import EXAMPLES
from sandboxes.firm import Firm
from tests.graph_support import graph_client


@pytest.mark.parametrize("name", sorted(EXAMPLES))
async def test_each_example_runs_without_errors(firm: Firm, name: str) -> None:
    async with graph_client(firm) as graph:
        data = await graph.data(EXAMPLES[name])
    assert data and all(value for value in data.values()), data
    connection = next(iter(data.values()))
    if isinstance(connection, dict):
        assert connection["totalCount"] > 0
