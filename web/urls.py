"""Absolute links for mail, QR codes and push: built from PUBLIC_BASE_URL, never from the Host
header a client sent (which an attacker controls)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from flask import current_app, has_request_context, url_for
from werkzeug.routing import BaseConverter


class AnyTextConverter(BaseConverter):
    """Any non-empty text, slashes, leading slashes and new lines included: whatever a scanner
    read is answered (werkzeug's ``path`` refuses new lines and a leading slash with a 404).
    Registered by the app factory as ``any_text``."""

    regex = r"[\s\S]+"
    part_isolating = False


def public_url(endpoint: str, **values: Any) -> str:
    context = nullcontext() if has_request_context() else current_app.test_request_context("/")
    with context:
        path = url_for(endpoint, **values)
    return current_app.config["PUBLIC_BASE_URL"] + path
