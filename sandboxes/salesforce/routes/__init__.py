"""HTTP routes of the sandbox org, one module per API area."""

__all__: list[str] = []
