"""A refused use case: the one exception shape the page and API layers turn into a Dutch answer."""

from __future__ import annotations


class Refused(Exception):
    """``code`` for machines, ``status`` for HTTP, ``detail`` the Dutch explanation, ``field`` the form field."""

    def __init__(self, code: str, status: int, detail: str, field: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.detail = detail
        self.field = field
