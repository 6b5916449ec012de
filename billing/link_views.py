"""Pages behind an e-mailed invoice link (DESIGN §3.7): the invoice and its stored PDF, for
whoever holds the token. No sign-in, no session, no form: the token is the only credential
and it only reads. Every answer, the refusal included, is kept out of caches and referrers.
"""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.views.decorators.http import require_safe

from billing.documents import (
    invoice_document,
    invoice_filename,
    invoice_language,
    invoice_pdf_bytes,
)
from billing.links import invoice_link_find, invoice_link_view_record
from billing.models import Invoice, InvoiceLinkViewKind
from billing.scoping import recipient_scope


def link_response(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """No referrer (the token must not reach other sites' logs), no caching anywhere, no
    indexing."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


def _invalid() -> HttpResponse:
    # The same page for an unknown, tampered, expired or revoked token.
    return HttpResponse(render_to_string("links/invalid.html"), status=404)


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@link_response
@require_safe
def invoice_link_view(request: HttpRequest, token: str) -> HttpResponse:
    link = invoice_link_find(token=token)
    if link is None:
        return _invalid()
    with recipient_scope(tenant_id=link.tenant_id, partner_id=link.partner_id):
        invoice = (
            Invoice.objects.select_related("tenant", "partner", "credited_invoice")
            .defer("pdf", "credited_invoice__pdf")
            .get(pk=link.invoice_id)
        )
        invoice_link_view_record(
            link=link,
            kind=InvoiceLinkViewKind.VIEW,
            ip=_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        language = invoice_language(invoice=invoice)
        with translation.override(language):
            # Rendered without the request: no context processor looks at a session here.
            html = render_to_string(
                "links/invoice.html",
                {
                    "document": invoice_document(invoice=invoice, language=language),
                    "invoice": invoice,
                    "token": token,
                    "expires_at": link.expires_at,
                    "language": language,
                },
            )
    return HttpResponse(html)


@link_response
@require_safe
def invoice_link_pdf_view(request: HttpRequest, token: str) -> HttpResponse:
    link = invoice_link_find(token=token)
    if link is None:
        return _invalid()
    with recipient_scope(tenant_id=link.tenant_id, partner_id=link.partner_id):
        invoice = Invoice.objects.select_related("tenant", "partner").get(pk=link.invoice_id)
        invoice_link_view_record(
            link=link,
            kind=InvoiceLinkViewKind.PDF,
            ip=_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        pdf = invoice_pdf_bytes(invoice=invoice)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice_filename(invoice=invoice)}"'
    return response
