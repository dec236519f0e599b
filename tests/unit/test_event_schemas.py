"""schemas/events/ holds one JSON Schema per event type and version, generated from the
models (`make schema`); a test fails when the files drift from the code."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from domain.events import EVENT_TYPES, Event, OpportunityWon, event_schema, parse_event

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events"


def schema_file(cls: type[Event]) -> Path:
    return SCHEMAS / f"{cls.type}.v{cls.version}.json"


@pytest.mark.parametrize("cls", EVENT_TYPES.values(), ids=list(EVENT_TYPES))
def test_each_event_schema_file_matches_the_code(cls: type[Event]) -> None:
    on_disk = json.loads(schema_file(cls).read_text())
    assert on_disk == event_schema(cls), (
        f"{schema_file(cls).name} drifted: run `make schema` and commit schemas/events/"
    )
    Draft202012Validator.check_schema(on_disk)


def test_no_schema_file_is_left_without_an_event_type() -> None:
    expected = {schema_file(cls).name for cls in EVENT_TYPES.values()}
    assert {p.name for p in SCHEMAS.glob("*.json")} == expected


def test_an_event_is_a_cloudevent_that_round_trips() -> None:
    event = OpportunityWon(
        id="e-1", subject="ENG-2026-00001", time=datetime(2026, 11, 25, tzinfo=UTC),
        correlation_id="c-1", causation_id=None, opportunity_id="006X", customer_key=None,
        billing_model="MILESTONE", amount="10.00", currency="USD",
    )  # fmt: skip
    record = event.to_record()
    assert record["specversion"] == "1.0" and record["type"] == "opportunity.won"
    assert record["dataschema"] == "/schemas/events/opportunity.won.v1.json"
    assert "causationid" not in record and record["correlationid"] == "c-1"
    Draft202012Validator(json.loads(schema_file(OpportunityWon).read_text())).validate(record)
    assert parse_event(record) == event
    broken = {**record, "data": {**record["data"], "opportunity_id": 7}}
    assert list(Draft202012Validator(event_schema(OpportunityWon)).iter_errors(broken))
