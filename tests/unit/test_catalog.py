"""The service catalogue: the packaged file describes the demo firm; bad files fail clearly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain.catalog import ServiceCatalog
from domain.models import BillingModel
from gateway.catalog import CatalogError, load_catalog
from sandboxes.seed.deals import _MODEL_SERVICE_LINES
from sandboxes.seed.reference import LEGAL_ENTITIES, LOCATIONS, SERVICE_LINES


def _valid() -> dict[str, Any]:
    return {
        "service_lines": [
            {
                "code": "CLOUD",
                "name": "Cloud Migration",
                "department_code": "ENGINEERING",
                "class_code": "CL-CLOUD",
                "project_template": "Cloud Delivery",
                "roles": ["Principal", "Engineer"],
                "billing_models": ["TIME_AND_MATERIALS"],
            }
        ],
        "legal_entities": [{"legal_entity_code": "US", "default_location_code": "US-NYC"}],
    }


def _write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "catalog.json"
    text = content if isinstance(content, str) else json.dumps(content)
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_catalogue_matches_the_demo_firms_service_lines() -> None:
    catalog = load_catalog(None)
    assert catalog.codes == tuple(line.code for line in SERVICE_LINES)
    for seeded in SERVICE_LINES:
        line = catalog.service_line(seeded.code)
        assert line is not None
        assert (line.name, line.department_code, line.class_code, line.project_template) == (
            seeded.name,
            seeded.department,
            seeded.class_code,
            seeded.project_template,
        )
        assert line.roles == seeded.roles


def test_packaged_catalogue_allows_exactly_the_billing_models_the_firm_sells() -> None:
    catalog = load_catalog()
    for code in catalog.codes:
        sold_as = {model for model, lines in _MODEL_SERVICE_LINES.items() if code in lines}
        line = catalog.service_line(code)
        assert line is not None
        assert {m.value for m in line.billing_models} == sold_as


def test_packaged_catalogue_defaults_each_legal_entity_to_one_of_its_locations() -> None:
    catalog = load_catalog()
    for entity in LEGAL_ENTITIES:
        location = catalog.default_location(entity.code)
        own = [loc.code for loc in LOCATIONS if loc.legal_entity == entity.code]
        assert location == own[0]
    assert catalog.default_location("FR") is None


def test_lookups_answer_none_for_unknown_codes() -> None:
    catalog = ServiceCatalog.model_validate(_valid())
    assert catalog.service_line("NOPE") is None
    assert catalog.service_line(None) is None
    line = catalog.service_line("CLOUD")
    assert line is not None
    assert line.allows(BillingModel.TIME_AND_MATERIALS)
    assert not line.allows(BillingModel.RETAINER)


def test_a_valid_file_loads(tmp_path: Path) -> None:
    catalog = load_catalog(_write(tmp_path, _valid()))
    assert catalog.codes == ("CLOUD",)
    assert catalog.default_location("US") == "US-NYC"


def test_a_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"
    with pytest.raises(CatalogError, match=r"absent\.json: cannot be read"):
        load_catalog(missing)


def test_invalid_json_names_the_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"not valid JSON: .* at line 2 column"):
        load_catalog(_write(tmp_path, '{"service_lines": [\n  oops]}'))


def test_a_json_array_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="must be a JSON object, not list"):
        load_catalog(_write(tmp_path, "[]"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["service_lines"][0].update(billing_models=["BARTER"]), "billing_models.0"),
        (lambda d: d["service_lines"][0].update(roles=[]), "service_lines.0.roles"),
        (lambda d: d["service_lines"][0].update(colour="red"), "service_lines.0.colour"),
        (lambda d: d["service_lines"][0].pop("class_code"), "service_lines.0.class_code"),
        (
            lambda d: d["service_lines"].append(d["service_lines"][0]),
            r"codes repeated: \['CLOUD'\]",
        ),
        (
            lambda d: d["service_lines"][0].update(roles=["Engineer", "Engineer"]),
            r"roles repeated: \['Engineer'\]",
        ),
        (
            lambda d: d["legal_entities"].append(d["legal_entities"][0]),
            r"legal entity codes repeated: \['US'\]",
        ),
    ],
)
def test_a_schema_violation_names_the_field(tmp_path: Path, change: Any, message: str) -> None:
    data = _valid()
    change(data)
    with pytest.raises(CatalogError, match=message) as caught:
        load_catalog(_write(tmp_path, data))
    assert str(caught.value).startswith(f"service catalogue {tmp_path / 'catalog.json'}: ")
