"""One place that decides between a whole page and an htmx fragment."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


def render(
    template: str, *, block: str | None = None, status: int = 200, **context: Any
) -> Response:
    """Render `template`; for an htmx request, only its `block` when one is named.

    The fragment is a block of the page's own template, so the two cannot drift apart,
    and the response always says it varies on HX-Request so caches keep them apart.
    """
    if block and request.htmx and not request.htmx.history_restore_request:
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def see_other(location: str) -> Response:
    """Redirect after a POST with 303, so the browser follows with a GET."""
    response = redirect(location, code=303)
    if request.htmx:
        # htmx follows a 303 itself and swaps the result; HX-Location does a full,
        # history-aware navigation instead, which is what a redirect means.
        response = make_response("", 204)
        response.headers["HX-Location"] = location
    response.vary.add("HX-Request")
    return response
