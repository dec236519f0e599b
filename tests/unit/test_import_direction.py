"""Imports point one way: gateway → resolvers → workflows → adapters → domain.

Sandboxes import nothing from the product; the product never imports the
sandboxes, except gateway/cli.py, lazily inside the commands that start them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {"domain": 0, "adapters": 1, "workflows": 2, "resolvers": 3, "gateway": 4}
PRODUCT = set(LAYERS)
LAZY_SANDBOX_IMPORTERS = {"gateway/cli.py"}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(top-level package imported, imported at module level?) for each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, bool]] = []
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            found.append((name.split(".")[0], id(node) in top_level))
    return found


def _wrong_arrows(package: str) -> list[str]:
    problems = []
    rank = LAYERS[package]
    for path in _modules(package):
        rel = path.relative_to(ROOT).as_posix()
        for target, module_level in _imports(path):
            if target in PRODUCT and LAYERS[target] > rank:
                problems.append(f"{rel} imports {target} (points outward)")
            if target == "sandboxes" and (rel not in LAZY_SANDBOX_IMPORTERS or module_level):
                problems.append(f"{rel} imports sandboxes")
    return problems


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_product_layers_import_only_inward(package: str) -> None:
    assert _wrong_arrows(package) == []


def test_sandboxes_import_nothing_from_the_product() -> None:
    problems = [
        f"{path.relative_to(ROOT).as_posix()} imports {target}"
        for path in _modules("sandboxes")
        for target, _ in _imports(path)
        if target in PRODUCT
    ]
    assert problems == []


def test_the_checker_sees_a_wrong_arrow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from gateway.app import create_app\n", encoding="utf-8")
    assert _imports(bad) == [("gateway", True)]
    lazy = tmp_path / "lazy.py"
    lazy.write_text("def f() -> None:\n    import sandboxes.seed\n", encoding="utf-8")
    assert _imports(lazy) == [("sandboxes", False)]
