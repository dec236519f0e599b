"""The README documents every setting the code reads (docs match the code)."""

from __future__ import annotations

from pathlib import Path

from gateway.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_has_its_environment_variable_in_the_readme() -> None:
    text = README.read_text()
    missing = [
        f"EG_{name.upper()}" for name in Settings.model_fields if f"EG_{name.upper()}" not in text
    ]
    assert missing == [], f"README lacks {missing}"
