"""Compression (Flask-Compress): brotli or gzip as the client accepts, on HTML, CSS, JS, JSON and
SVG; never on compressed formats (PNG, PDF) or tiny bodies; ETag/304, the service worker and
the no-store pages keep working."""

from __future__ import annotations

import gzip

import brotli
import pytest
from flask import Response

BR = {"Accept-Encoding": "br, gzip"}
GZIP = {"Accept-Encoding": "gzip"}


def decoded(response) -> bytes:
    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    assert encoding is None, encoding
    return body


@pytest.fixture
def app(app):
    # Kinds of response the app does not serve at a stable public URL: a large SVG and a PDF.
    @app.route("/_test/drawing.svg")
    def drawing() -> Response:
        circles = "".join(f'<circle cx="{i}" cy="{i}" r="3"/>' for i in range(200))
        return Response(
            f'<svg xmlns="http://www.w3.org/2000/svg">{circles}</svg>', mimetype="image/svg+xml"
        )

    @app.route("/_test/document.pdf")
    def document() -> Response:
        return Response(b"%PDF-1.7\n" + b"0" * 20000, mimetype="application/pdf")

    @app.route("/_test/stream")
    def stream() -> Response:
        def rows():
            for n in range(300):
                yield f"<p>row {n} of a long streamed page</p>\n"

        return Response(rows(), mimetype="text/html")

    drawing.allowed_roles = document.allowed_roles = stream.allowed_roles = "public"
    return app


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("/verify?lang=fr", "text/html"),
        ("/static/css/app.css", "text/css"),
        ("/static/js/wallet.js", "text/javascript"),
        ("/api/v1/openapi.json", "application/json"),
        ("/_test/drawing.svg", "image/svg+xml"),
        ("/sw.js", "text/javascript"),
    ],
)
def test_text_is_compressed_with_brotli_or_gzip(client, path: str, mimetype: str) -> None:
    plain = client.get(path)
    assert plain.status_code == 200 and plain.mimetype == mimetype
    assert "Content-Encoding" not in plain.headers  # a client that asks for nothing gets none
    for headers, encoding in ((BR, "br"), (GZIP, "gzip")):
        response = client.get(path, headers=headers)
        assert response.headers.get("Content-Encoding") == encoding, (path, encoding)
        assert "Accept-Encoding" in response.headers["Vary"]
        assert len(response.get_data()) < len(plain.get_data()) / 2
        assert int(response.headers["Content-Length"]) == len(response.get_data())
        assert decoded(response) == plain.get_data()


def test_compressed_formats_and_tiny_bodies_are_sent_as_they_are(client) -> None:
    # The same client, the same Accept-Encoding, a text body: compressed.
    assert client.get("/static/css/app.css", headers=BR).headers["Content-Encoding"] == "br"
    for path in ("/static/icons/icon-512.png", "/_test/document.pdf", "/healthz"):
        response = client.get(path, headers=BR)
        assert response.status_code == 200, path
        assert "Content-Encoding" not in response.headers, path
    assert len(client.get("/healthz").get_data()) < 500


def test_static_files_still_answer_304_per_encoding(client) -> None:
    first = client.get("/static/css/app.css", headers=BR)
    etag = first.headers["ETag"]
    assert etag.endswith(':br"')  # one validator per encoding: a cache never mixes them
    again = client.get("/static/css/app.css", headers={**BR, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    plain = client.get("/static/css/app.css")
    assert plain.headers["ETag"] != etag
    revalidated = client.get(
        "/static/css/app.css", headers={"If-None-Match": plain.headers["ETag"]}
    )
    assert revalidated.status_code == 304
    # The compressed validator does not match the identity body, nor the other way round.
    cross = client.get("/static/css/app.css", headers={"If-None-Match": etag})
    assert cross.status_code == 200 and "Content-Encoding" not in cross.headers


def test_caching_headers_survive_compression(client) -> None:
    worker = client.get("/sw.js", headers=BR)
    assert worker.headers["Content-Encoding"] == "br"
    assert worker.headers["Cache-Control"] == client.get("/sw.js").headers["Cache-Control"]
    assert "no-cache" in worker.headers["Cache-Control"]
    page = client.get("/verify?lang=pl", headers=BR)
    assert page.headers["Content-Encoding"] == "br"
    assert page.headers["Cache-Control"] == "no-store"
    assert "Polski" in decoded(page).decode()


def test_a_streamed_body_is_compressed_as_it_goes(client) -> None:
    plain = client.get("/_test/stream").get_data()
    response = client.get("/_test/stream", headers=BR)
    assert response.headers["Content-Encoding"] == "br"
    assert "Content-Length" not in response.headers  # sent chunk by chunk, not buffered
    assert decoded(response) == plain and plain.count(b"<p>") == 300
