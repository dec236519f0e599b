"""Stand-ins for the four vendors, speaking each vendor's wire format over HTTP.

They import nothing from the product: to the gateway they are other
companies' software, reached only over HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from sandboxes.control import Faults
    from sandboxes.firm import Firm

__all__ = ["SANDBOX_NAMES", "SandboxName", "create_sandbox_app"]

SandboxName = Literal["salesforce", "kantata", "harvest", "netsuite"]
SANDBOX_NAMES: tuple[SandboxName, ...] = ("salesforce", "kantata", "harvest", "netsuite")


def create_sandbox_app(
    name: SandboxName, firm: Firm, *, faults: Faults | None = None, seed: int = 0, **options: Any
) -> Starlette:
    """Build one vendor's sandbox app seeded from `firm`; `options` go to that vendor's app."""
    if name == "salesforce":
        from sandboxes.salesforce import create_app as salesforce

        return salesforce(firm, faults=faults, seed=seed, **options)
    if name == "kantata":
        from sandboxes.kantata import create_app as kantata

        return kantata(firm, faults=faults, seed=seed, **options)
    if name == "harvest":
        from sandboxes.harvest import create_app as harvest

        return harvest(firm, faults=faults, seed=seed, **options)
    if name == "netsuite":
        from sandboxes.netsuite import create_app as netsuite

        return netsuite(firm, faults=faults, seed=seed, **options)
    raise ValueError(f"unknown sandbox {name!r}; expected one of {', '.join(SANDBOX_NAMES)}")
