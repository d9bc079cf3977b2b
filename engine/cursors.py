"""Page cursors for keyset pagination: the sort key of a page's last row, opaque to clients."""
from __future__ import annotations

import base64
import json
from typing import Any

from .errors import InvalidInput


def encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode(cursor: str, length: int) -> list[Any]:
    """The key a cursor carries; a damaged or foreign cursor is the client's error, said plainly."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, list) or len(key) != length:
        raise InvalidInput("The page cursor is not valid; start again from the first page", code="page.bad-cursor")
    return key
