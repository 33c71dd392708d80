"""One template serves the full page and the htmx fragment (the Contact.app pattern)."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template

from web.extensions import htmx


def render_page_or_fragment(page_template: str, fragment_template: str, **context: Any) -> Response:
    """The fragment for an htmx request that targets part of the page, else the whole page.

    The response says ``Vary: HX-Request`` so no cache serves one in place of the other.
    """
    partial = htmx and not htmx.boosted and not htmx.history_restore_request
    template = fragment_template if partial else page_template
    response = make_response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response
