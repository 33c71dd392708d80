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


def render_list_or_errors(
    page_template: str,
    rows_template: str,
    *,
    errors: dict[str, str],
    error_labels: dict[str, str],
    **context: Any,
) -> Response:
    """A filtered list: its rows, or — when a filter is wrong — the filter's messages in their
    place and a 400 (no rows that the filter did not choose). The page includes
    ``region_template``, which is also the htmx fragment, so both always agree.

    ``error_labels`` names each filter (its field's label) for the messages, which link to it.
    """
    region = "_filter_errors.html" if errors else rows_template
    response = render_page_or_fragment(
        page_template,
        region,
        region_template=region,
        errors=errors,
        error_labels=error_labels,
        **context,
    )
    if errors:
        response.status_code = 400
    return response
