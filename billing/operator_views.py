from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_scopes import scopes_disabled

from accounts.hooks import page_sections_read
from accounts.models import Partner, Tenant
from billing.invoicing import InvoicingError, payment_register, vat_breakdown
from billing.issuing import credit_note_issue, invoice_reissue
from billing.migration import (
    SellerMigrationError,
    seller_migration_cancel,
    seller_migration_notify,
    seller_migration_schedule,
    seller_migrations_with_counts,
)
from billing.models import (
    OPEN_MIGRATION_STATUSES,
    BillingRun,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    SellerEntity,
    SellerMigration,
)
from billing.operator_dashboard import operator_dashboard
from billing.operator_forms import (
    BillingRunFilterForm,
    CreditNoteForm,
    InvoiceFilterForm,
    PaymentForm,
    SellerMigrationForm,
)
from billing.schedule import (
    billing_schedule,
    run_counts_in_words,
    run_now_queue,
    schedule_in_words,
)
from severa import clock
from severa.confirm import confirmation_page, confirmed
from severa.errors import refusal_on_form, refusal_show
from severa.paging import query_without_page


def operator_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Operator pages see every tenant; anyone else gets a 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not getattr(request.user, "is_operator", False):
            raise Http404
        with scopes_disabled():
            return view(request, *args, **kwargs)

    return wrapped


@operator_view
def operator_home_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "operator/home.html",
        {
            "dashboard": operator_dashboard(now=clock.now()),
            "tenants": _page(request, Tenant.objects.order_by("name", "pk")),
            "partners": Partner.objects.all(),
            "sellers": SellerEntity.objects.prefetch_related("bank_accounts"),
            **page_sections_read(page="operator_home", request=request),
        },
    )


# Billing runs, invoices (payments, credit notes) and seller migrations.

OPERATOR_PAGE_SIZE = 50


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, OPERATOR_PAGE_SIZE).get_page(request.GET.get("page"))


@require_safe
@operator_view
def billing_runs_view(request: HttpRequest) -> HttpResponse:
    form = BillingRunFilterForm(request.GET or None)
    runs = BillingRun.objects.order_by("-run_date", "kind", "-pk")
    if form.is_valid():
        if form.cleaned_data["kind"]:
            runs = runs.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["status"]:
            runs = runs.filter(status=form.cleaned_data["status"])
    page = _page(request, runs)
    for run in page.object_list:
        run.counts_in_words = run_counts_in_words(run=run)
    return render(
        request,
        "operator/billing_runs.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "schedule": billing_schedule(now=clock.now()),
            "schedule_text": schedule_in_words(),
        },
    )


@require_POST
@operator_view
def billing_run_now_view(request: HttpRequest) -> HttpResponse:
    """Queue today's billing run (idempotent: a second press within minutes queues nothing,
    and a run of a day already done does nothing twice)."""
    if run_now_queue(today=clock.today()):
        messages.success(request, _("Today's billing run is queued. Its rows appear below."))
    else:
        messages.info(request, _("Today's billing run was queued a moment ago already."))
    return redirect("operator_billing_runs")


@require_safe
@operator_view
def invoices_view(request: HttpRequest) -> HttpResponse:
    form = InvoiceFilterForm(request.GET or None)
    invoices = (
        Invoice.objects.select_related("tenant", "partner", "seller")
        .defer("pdf", "seller_snapshot", "buyer_snapshot")
        .order_by("-invoice_date", "-pk")
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["seller"]:
            invoices = invoices.filter(seller=data["seller"])
        if data["status"]:
            invoices = invoices.filter(status=data["status"])
        if data["kind"]:
            invoices = invoices.filter(kind=data["kind"])
        if data["tenant"]:
            name = data["tenant"].strip()
            invoices = invoices.filter(
                Q(tenant__name__icontains=name) | Q(partner__name__icontains=name)
            )
        if data["date_from"]:
            invoices = invoices.filter(invoice_date__gte=data["date_from"])
        if data["date_to"]:
            invoices = invoices.filter(invoice_date__lte=data["date_to"])
    elif form.is_bound:
        invoices = invoices.none()
    return render(
        request,
        "operator/invoices.html",
        {"form": form, "page": _page(request, invoices), "query": query_without_page(request)},
    )


def _invoice_detail(request: HttpRequest, invoice: Invoice, **bound) -> HttpResponse:
    """The invoice page; `bound` holds a refused payment or credit note form (a 400)."""
    lines = list(invoice.lines.select_related("credited_line"))
    credited: dict[int, Decimal] = defaultdict(Decimal)
    for credit in InvoiceLine.objects.filter(credited_line__invoice=invoice):
        credited[credit.credited_line_id] += -credit.net
    rows = [
        {"line": line, "credited": credited[line.pk], "left": line.net - credited[line.pk]}
        for line in lines
    ]
    payments = list(invoice.payments.select_related("registered_by"))
    paid = sum((payment.amount for payment in payments), Decimal(0))
    is_invoice = invoice.kind == InvoiceKind.INVOICE
    context = {
        "invoice": invoice,
        "rows": rows,
        "vat_groups": vat_breakdown(lines=lines, currency=invoice.currency),
        "payments": payments,
        "paid": paid,
        "outstanding": invoice.total - invoice.credited_amount - paid if is_invoice else None,
        "credit_notes": invoice.credit_notes.defer("pdf").order_by("invoice_date", "pk"),
        "is_invoice": is_invoice,
        "payment_form": bound.get("payment_form")
        or PaymentForm(initial={"paid_on": clock.today()}),
        "credit_form": bound.get("credit_form") or CreditNoteForm(lines=lines),
    }
    status = 400 if bound else 200
    return render(request, "operator/invoice_detail.html", context, status=status)


def _operator_invoice(invoice_id: int) -> Invoice:
    return get_object_or_404(
        Invoice.objects.select_related(
            "tenant", "partner", "seller", "credited_invoice", "reissue", "reissue_credit_note"
        ).defer("pdf"),
        pk=invoice_id,
    )


@require_safe
@operator_view
def invoice_detail_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _invoice_detail(request, _operator_invoice(invoice_id))


@require_POST
@operator_view
def invoice_payment_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _operator_invoice(invoice_id)
    form = PaymentForm(request.POST)
    if not form.is_valid():
        return _invoice_detail(request, invoice, payment_form=form)
    try:
        payment = payment_register(
            invoice=invoice,
            amount=form.cleaned_data["amount"],
            paid_on=form.cleaned_data["paid_on"],
            reference=form.cleaned_data["reference"],
            actor=request.user,
        )
    except InvoicingError as error:
        refusal_on_form(form, error)
        return _invoice_detail(request, invoice, payment_form=form)
    messages.success(
        request,
        _("Payment of %(amount)s %(currency)s registered.")
        % {"amount": payment.amount, "currency": invoice.currency},
    )
    return redirect("operator_invoice", invoice_id=invoice.pk)


@require_POST
@operator_view
def invoice_credit_note_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _operator_invoice(invoice_id)
    form = CreditNoteForm(request.POST, lines=list(invoice.lines.all()))
    if not form.is_valid():
        return _invoice_detail(request, invoice, credit_form=form)
    try:
        note = credit_note_issue(
            invoice=invoice,
            lines=form.credited_lines(),
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except InvoicingError as error:
        refusal_on_form(form, error)
        return _invoice_detail(request, invoice, credit_form=form)
    messages.success(request, _("Credit note %(number)s issued.") % {"number": note.display_number})
    return redirect("operator_invoice", invoice_id=note.pk)


@require_http_methods(["GET", "POST"])
@operator_view
def invoice_reissue_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """Credit and reissue, after a confirmation step."""
    invoice = _operator_invoice(invoice_id)
    if not confirmed(request):
        return confirmation_page(
            request,
            title=_("Credit and reissue invoice %(number)s?") % {"number": invoice.display_number},
            consequences=[
                _(
                    "A credit note of the whole invoice is issued, and a new invoice of the same "
                    "lines dated today, with today's VAT, next in the seller's series."
                ),
                _(
                    "The billing contacts get both; the credit note and the new invoice name "
                    "each other."
                ),
                _("This cannot be undone, and the invoice cannot be reissued again."),
            ],
            confirm_label=_("Credit and reissue"),
            cancel_url=reverse("operator_invoice", args=[invoice.pk]),
        )
    try:
        note, new = invoice_reissue(invoice=invoice, actor=request.user)
    except InvoicingError as error:
        refusal_show(request, error)
        return redirect("operator_invoice", invoice_id=invoice.pk)
    messages.success(
        request,
        _("Invoice %(invoice)s credited by %(note)s and reissued as %(new)s.")
        % {
            "invoice": invoice.display_number,
            "note": note.display_number,
            "new": new.display_number,
        },
    )
    return redirect("operator_invoice", invoice_id=new.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@operator_view
def seller_migrations_view(request: HttpRequest) -> HttpResponse:
    form = SellerMigrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            migration = seller_migration_schedule(
                from_seller=form.cleaned_data["from_seller"],
                to_seller=form.cleaned_data["to_seller"],
                cohort_start=form.cleaned_data["cohort_start"],
                notice_days=form.cleaned_data["notice_days"],
                actor=request.user,
            )
        except SellerMigrationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(
                request,
                _("Cohort scheduled: %(count)d subscriptions.")
                % {"count": migration.items.count()},
            )
            return redirect("operator_seller_migration", sellermigration_id=migration.pk)
    migrations = seller_migrations_with_counts(
        migrations=SellerMigration.objects.select_related("from_seller", "to_seller").order_by(
            "-cohort_start", "-pk"
        )
    )
    return render(
        request,
        "operator/seller_migrations.html",
        {"form": form, "page": _page(request, migrations)},
        status=400 if form.errors else 200,
    )


@require_safe
@operator_view
def seller_migration_detail_view(request: HttpRequest, sellermigration_id: int) -> HttpResponse:
    migration = get_object_or_404(
        seller_migrations_with_counts(
            migrations=SellerMigration.objects.select_related(
                "from_seller", "to_seller", "created_by", "cancelled_by"
            )
        ),
        pk=sellermigration_id,
    )
    items = migration.items.select_related("tenant", "subscription").order_by("tenant__name", "pk")
    return render(
        request,
        "operator/seller_migration_detail.html",
        {
            "migration": migration,
            "page": _page(request, items),
            "notice_due_on": migration.cohort_start - timedelta(days=migration.notice_days),
            "is_open": migration.status in OPEN_MIGRATION_STATUSES,
            "bank_accounts": migration.to_seller.bank_accounts.order_by("currency"),
        },
    )


@require_POST
@operator_view
def seller_migration_notify_view(request: HttpRequest, sellermigration_id: int) -> HttpResponse:
    migration = get_object_or_404(SellerMigration, pk=sellermigration_id)
    try:
        told = seller_migration_notify(migration=migration, actor=request.user)
    except SellerMigrationError as error:
        refusal_show(request, error)
    else:
        messages.success(request, _("Notice e-mailed to %(count)d companies.") % {"count": told})
    return redirect("operator_seller_migration", sellermigration_id=migration.pk)


@require_POST
@operator_view
def seller_migration_cancel_view(request: HttpRequest, sellermigration_id: int) -> HttpResponse:
    migration = get_object_or_404(SellerMigration, pk=sellermigration_id)
    try:
        seller_migration_cancel(migration=migration, actor=request.user)
    except SellerMigrationError as error:
        refusal_show(request, error)
    else:
        messages.success(request, _("The cohort is cancelled."))
    return redirect("operator_seller_migration", sellermigration_id=migration.pk)
