"""Loading the service catalogue from JSON (the packaged one unless a path is given).

A bad file fails start-up with one `CatalogError` that names the file and what
is wrong in it (unreadable, not JSON, or which field breaks the schema), so an
operator can fix the configuration without reading a traceback.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from domain.catalog import ServiceCatalog

__all__ = ["PACKAGED_CATALOG", "CatalogError", "load_catalog"]

PACKAGED_CATALOG = "service_catalog.json"


class CatalogError(ValueError):
    """The service catalogue file could not be read or does not fit the schema."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"service catalogue {source}: {problem}")
        self.source = source
        self.problem = problem


def _read(path: Path | None) -> tuple[str, str]:
    if path is None:
        source = f"gateway/{PACKAGED_CATALOG} (packaged)"
        resource = resources.files("gateway").joinpath(PACKAGED_CATALOG)
        try:
            return source, resource.read_text(encoding="utf-8")
        except OSError as exc:  # pragma: no cover - a broken installation
            raise CatalogError(source, f"cannot be read ({exc.strerror or exc})") from exc
    source = str(path)
    try:
        return source, path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(source, f"cannot be read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(source, f"is not UTF-8 text ({exc.reason})") from exc


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


def load_catalog(path: Path | None = None) -> ServiceCatalog:
    """The catalogue in ``path``, or the one packaged with the gateway when None.

    Raises `CatalogError` for a missing or unreadable file, invalid JSON, or
    content that breaks the schema (unknown field, unknown billing model,
    repeated code, empty role list, ...).
    """
    source, text = _read(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            source, f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(data, dict):
        raise CatalogError(source, f"must be a JSON object, not {type(data).__name__}")
    try:
        return ServiceCatalog.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(source, _describe(exc)) from exc
