"""PDF documents (DESIGN §3.7): the WeasyPrint call every document uses, and storing an
issued document's PDF once.

Rendering never touches the network: the only resources a document may load are files under
`static/` (its stylesheet), through `LocalStaticFetcher`; any other URL is refused. Fonts come
from the system (DejaVu, installed by `scripts/install-system-packages.sh`).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.db import transaction
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from severa import clock

STATIC_DIR = Path(settings.BASE_DIR, "static").resolve()
# Relative URLs in a document resolve against the static directory, e.g.
# <link rel="stylesheet" href="css/documents.css">.
BASE_URL = STATIC_DIR.as_uri() + "/"


class LocalStaticFetcher(URLFetcher):
    """Serves files under `static/` and nothing else: no http(s), no other paths, so a
    document cannot make the worker fetch a remote URL or read a file outside `static/`."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in {"", "localhost"}:
            raise ValueError(f"Documents load local static files only, not {url}")
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(STATIC_DIR) or not path.is_file():
            raise ValueError(f"Not a static file: {url}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
        )


@cache
def font_configuration() -> FontConfiguration:
    # Building a FontConfiguration scans the system fonts; one per process is enough.
    return FontConfiguration()


def html_to_pdf(html: str) -> bytes:
    """Render a document's HTML to PDF (A4 from the stylesheet). Slow (a third of a second
    per page): call it from a worker or a download fallback, never while holding a lock."""
    return HTML(string=html, base_url=BASE_URL, url_fetcher=LocalStaticFetcher()).write_pdf(
        font_config=font_configuration()
    )


Document = TypeVar("Document", bound=Any)


def pdf_stored_once(document: Document, render: Callable[[Document], bytes]) -> bytes:
    """The document's stored PDF (`pdf`, `pdf_rendered_at` fields); rendered and stored
    first when it has none yet.

    The render runs outside any lock; the PDF is stored under the row's lock only if the row
    still has none, so the first stored PDF is the document and every e-mail and download
    serves that one (a second worker's render is dropped). Call inside the tenant's scope.
    """
    if document.pdf is not None:
        return bytes(document.pdf)
    pdf = render(document)
    model = type(document)
    with transaction.atomic():
        locked = model.objects.select_for_update(of=("self",)).get(pk=document.pk)
        if locked.pdf is None:
            locked.pdf = pdf
            locked.pdf_rendered_at = clock.now()
            locked.save(update_fields=["pdf", "pdf_rendered_at"])
        stored = bytes(locked.pdf)
    document.pdf, document.pdf_rendered_at = stored, locked.pdf_rendered_at
    return stored
