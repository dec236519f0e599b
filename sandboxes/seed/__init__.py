"""The deterministic demo-firm generator.

``generate_firm(seed)`` builds a twelve-month history of a three-entity
professional-services firm (2025-11-01 .. 2026-10-31) from ``random.Random(seed)``
alone, with a handful of planted cross-system discrepancies listed in
``Firm.discrepancies``; ``write_manifest`` writes them out as the answer key.
"""

from __future__ import annotations

from .assemble import generate_firm
from .manifest import firm_summary, manifest_dict, write_manifest

__all__ = ["firm_summary", "generate_firm", "manifest_dict", "write_manifest"]
