"""Order confirmation PDF: time to render one, against WeasyPrint's bare render of the same
HTML (PERFORMANCE.md: a document should cost no more than 1.1× the bare render). The bare
render is measured twice: as WeasyPrint does by default (a new font configuration per PDF)
and with the process-wide font configuration the documents use, which isolates what the
template, the database read and the local-only URL fetcher add.

The two are timed alternately, one call each per round, and compared by their medians: on a
shared, noisy machine that keeps the ratio fair where back-to-back loops would not.
"""

import statistics
import time

from bench.harness import bench_database

ROUNDS = 25


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> dict:
    with bench_database():
        from django_scopes import scopes_disabled
        from weasyprint import HTML
        from weasyprint.text.fonts import FontConfiguration

        from subscriptions.documents import (
            BASE_URL,
            order_confirmation_html,
            order_confirmation_pdf,
        )
        from tests.factories import MembershipFactory, OrderConfirmationFactory, TenantFactory

        with scopes_disabled():
            tenant = TenantFactory(name="Aalto Consulting Oy")
            confirmer = MembershipFactory(tenant=tenant, role="admin").user
            # The typical order: two lines, a scheduled decrease, a removed add-on and the
            # next period's price.
            order = OrderConfirmationFactory(tenant=tenant, confirmed_by=confirmer)

            first = _timed(lambda: order_confirmation_pdf(order=order))
            html = order_confirmation_html(order=order)
            pdf = order_confirmation_pdf(order=order)
            fonts = FontConfiguration()
            document, bare, bare_shared_fonts, markup = [], [], [], []
            for _ in range(ROUNDS):
                document.append(_timed(lambda: order_confirmation_pdf(order=order)))
                bare.append(_timed(lambda: HTML(string=html, base_url=BASE_URL).write_pdf()))
                bare_shared_fonts.append(
                    _timed(
                        lambda: HTML(string=html, base_url=BASE_URL).write_pdf(font_config=fonts)
                    )
                )
                markup.append(_timed(lambda: order_confirmation_html(order=order)))
        document_s = statistics.median(document)
        bare_s = statistics.median(bare)
        bare_shared_s = statistics.median(bare_shared_fonts)
        return {
            "pdfs_per_s": round(1 / document_s, 2),
            "ms_per_pdf": round(document_s * 1000, 1),
            "ms_per_pdf_p90": round(statistics.quantiles(document, n=10)[-1] * 1000, 1),
            "bare_weasyprint_ms_per_pdf": round(bare_s * 1000, 1),
            "cost_vs_bare_render": round(document_s / bare_s, 3),
            "bare_shared_fonts_ms_per_pdf": round(bare_shared_s * 1000, 1),
            "cost_vs_bare_render_shared_fonts": round(document_s / bare_shared_s, 3),
            "template_ms": round(statistics.median(markup) * 1000, 2),
            "first_pdf_in_process_ms": round(first * 1000, 1),
            "pdf_bytes": len(pdf),
            "rounds": ROUNDS,
        }
