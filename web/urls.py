"""Absolute links for mail, QR codes and push: built from PUBLIC_BASE_URL, never from the Host
header a client sent (which an attacker controls)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from flask import current_app, has_request_context, url_for
from werkzeug.routing import BaseConverter, IntegerConverter


class AnyTextConverter(BaseConverter):
    """Any non-empty text, slashes, leading slashes and new lines included: whatever a scanner
    read is answered (werkzeug's ``path`` refuses new lines and a leading slash with a 404).
    Registered by the app factory as ``any_text``."""

    regex = r"[\s\S]+"
    part_isolating = False


class RowIdConverter(IntegerConverter):
    """``<int:…>`` for row ids: a number beyond the databases' INTEGER (2**31 - 1) is a 404 like
    any unknown id, instead of an overflow error from PostgreSQL. Registered as ``int``."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def public_url(endpoint: str, **values: Any) -> str:
    context = nullcontext() if has_request_context() else current_app.test_request_context("/")
    with context:
        path = url_for(endpoint, **values)
    return current_app.config["PUBLIC_BASE_URL"] + path
