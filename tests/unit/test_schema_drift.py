"""schema.graphql is committed on purpose; it must match the code."""

from __future__ import annotations

from pathlib import Path

from gateway.cli import main
from resolvers.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == schema.as_str() + "\n", (
        "schema.graphql is stale: run `make schema` (engagement-gateway export-schema)"
    )


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(target)]) == 0
    assert "systems: [SystemStatus!]!" in target.read_text(encoding="utf-8")
