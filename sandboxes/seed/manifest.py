"""The planted-discrepancy manifest and a count summary of a firm."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import get_args

from sandboxes.firm import DiscrepancyKind, Firm

__all__ = ["firm_summary", "manifest_dict", "write_manifest"]


def manifest_dict(firm: Firm) -> dict[str, object]:
    """What was planted, in a stable order: the answer key for reconciliation tests."""
    planted = sorted(firm.discrepancies, key=lambda d: (d.kind, d.engagement_key or "", d.records))
    counts = {kind: 0 for kind in sorted(get_args(DiscrepancyKind))}
    for discrepancy in planted:
        counts[discrepancy.kind] += 1
    return {
        "seed": firm.seed,
        "as_of": firm.as_of.isoformat(),
        "discrepancies": [
            {
                "kind": d.kind,
                "systems": list(d.systems),
                "engagement_key": d.engagement_key,
                "records": list(d.records),
                "description": d.description,
            }
            for d in planted
        ],
        "counts": counts,
    }


def write_manifest(firm: Firm, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest_dict(firm), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def firm_summary(firm: Firm) -> dict[str, int]:
    """How many records each list of the firm holds."""
    summary: dict[str, int] = {}
    for item in fields(firm):
        value = getattr(firm, item.name)
        if isinstance(value, list):
            summary[item.name] = len(value)
    return summary
