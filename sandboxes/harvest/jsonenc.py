"""JSON as Harvest writes it: exact decimal numbers, ASCII-only text.

Money and hours are JSON numbers with their exact decimal text
(`sandboxes.jsonwire`); non-ASCII characters in strings are escapes.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sandboxes import jsonwire

__all__ = ["HarvestJSONResponse"]


class HarvestJSONResponse(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return jsonwire.dumps(content, ascii_only=True).encode("ascii")
