"""Response headers every page and download gets (the Content-Security-Policy itself comes
from django-csp, configured in settings)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Invoices, credit notes and order confirmations as PDF, Finvoice and UBL.
DOCUMENT_MEDIA_TYPES = {"application/pdf", "application/xml", "text/xml"}


def is_document_response(response: HttpResponse) -> bool:
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    disposition = response.get("Content-Disposition", "").lower()
    return media_type in DOCUMENT_MEDIA_TYPES or disposition.startswith("attachment")


class PrivateDocumentsMiddleware:
    """A downloaded document is the customer's: no shared cache (a proxy, a CDN) may keep
    it and the browser does not store it on disk, like the e-mailed links' downloads."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_document_response(response):
            response["Cache-Control"] = "private, no-store"
        return response
