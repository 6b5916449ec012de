"""Business records: the rules in records/services.py, which pages, API and syncs share."""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from accounts.models import AuditEvent
from accounts.services import tenant_create
from accounts.tenancy import tenant_scope
from records import services
from records.models import (
    Customer,
    CustomerAddress,
    CustomerContact,
    CustomerInvoice,
    CustomerInvoiceRow,
    Employee,
    InvoiceStatus,
    Product,
    Project,
    ProjectFee,
)
from severa import clock
from tests.factories import (
    CustomerFactory,
    InvoiceStatusFactory,
    MembershipFactory,
    ProductFactory,
    ProjectFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _messages(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict


# Products ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["10A", "1-2", "١٢٣", "12 3x", "A"])
def test_a_product_code_is_digits_only(tenant, code):
    with tenant_scope(tenant), pytest.raises(ValidationError) as refused:
        services.product_create(tenant=tenant, data={"name": "Design", "code": code})
    assert _messages(refused.value) == {"code": ["A product code is digits only, e.g. 1001."]}
    with tenant_scope(tenant):
        assert Product.objects.count() == 0


def test_a_product_with_a_numeric_or_blank_code_is_saved_and_audited(tenant, admin_user):
    with tenant_scope(tenant):
        unit = UnitFactory(tenant=tenant, code="h")
        product = services.product_create(
            tenant=tenant,
            data={
                "kind": "work_type",
                "code": " 1001 ",
                "name": "  Design   work ",
                "unit": unit,
                "price": Decimal("95.50"),
                "vat_rate": Decimal("25.5"),
            },
            actor=admin_user,
        )
        blank = services.product_create(tenant=tenant, data={"name": "Misc", "code": ""})
        other_blank = services.product_create(tenant=tenant, data={"name": "Misc 2"})
        assert (product.code, product.name, product.unit, product.price) == (
            "1001",
            "Design work",
            unit,
            Decimal("95.50"),
        )
        assert blank.code == other_blank.code == ""
        event = AuditEvent.objects.get(action="records.product.created", actor=admin_user)
        assert event.details == {"record": "Design work", "record_id": product.pk}


def test_product_codes_are_unique_per_tenant_only(tenant, other_tenant):
    with tenant_scope(tenant):
        services.product_create(tenant=tenant, data={"name": "A", "code": "1001"})
        with pytest.raises(ValidationError) as refused:
            services.product_create(tenant=tenant, data={"name": "B", "code": "1001"})
        assert _messages(refused.value) == {"code": ["Another product has the code 1001."]}
        assert list(Product.objects.values_list("name", flat=True)) == ["A"]
    with tenant_scope(other_tenant):
        services.product_create(tenant=other_tenant, data={"name": "B", "code": "1001"})


def test_a_product_update_keeps_its_own_code_and_changes_only_given_fields(tenant):
    with tenant_scope(tenant):
        product = ProductFactory(tenant=tenant, code="2000", name="Old", price=Decimal("10.00"))
        services.product_update(product=product, data={"name": "New"})
        product.refresh_from_db()
        assert (product.code, product.name, product.price) == ("2000", "New", Decimal("10.00"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", Decimal("-1"), "At least 0, please."),
        ("vat_rate", Decimal("100.01"), "At most 100, please."),
        (
            "price",
            Decimal("12345678901.00"),
            "Ensure that there are no more than 12 digits in total.",
        ),
        ("price", 1.5, "Give a decimal number."),
        ("price", "abc", "abc is not a number."),
        ("kind", "service", "Choose one of: work_type, travel, product."),
    ],
)
def test_product_amounts_and_kind_are_checked(tenant, field, value, message):
    with tenant_scope(tenant), pytest.raises(ValidationError) as refused:
        services.product_create(tenant=tenant, data={"name": "X", field: value})
    assert _messages(refused.value) == {field: [message]}


def test_a_unit_of_another_tenant_is_refused(tenant, other_tenant):
    with scopes_disabled():
        foreign_unit = UnitFactory(tenant=other_tenant)
    with tenant_scope(tenant), pytest.raises(ValidationError) as refused:
        services.product_create(tenant=tenant, data={"name": "X", "unit": foreign_unit})
    assert _messages(refused.value) == {"unit": ["No such unit."]}


# Customers --------------------------------------------------------------------------------

FINNISH_ADDRESS = {
    "kind": "invoice",
    "street": "Mannerheimintie 12",
    "postal_code": "00100",
    "city": "Helsinki",
    "country": "fi",
}


def test_a_customer_is_saved_with_clean_identifiers_addresses_and_contacts(tenant):
    with tenant_scope(tenant):
        customer = services.customer_create(
            tenant=tenant,
            data={
                "number": "5001",
                "name": "Nokia Oyj",
                "vat_number": "15728600",
                "organisation_number": "15728600",
                "addresses": [FINNISH_ADDRESS, {**FINNISH_ADDRESS, "kind": "visiting"}],
                "contacts": [{"first_name": "Anna", "last_name": "Ahde", "email": "A@X.TEST"}],
            },
        )
        assert (customer.vat_number, customer.organisation_number) == ("FI15728600", "1572860-0")
        assert [(a.kind, a.country, a.tenant_id) for a in customer.addresses.all()] == [
            ("invoice", "FI", tenant.pk),
            ("visiting", "FI", tenant.pk),
        ]
        contact = customer.contacts.get()
        assert (contact.email, contact.tenant_id) == ("a@x.test", tenant.pk)


def test_a_customer_identifier_is_checked_for_the_country_of_its_invoice_address(tenant):
    swedish = {**FINNISH_ADDRESS, "postal_code": "111 22", "city": "Stockholm", "country": "SE"}
    with tenant_scope(tenant):
        with pytest.raises(ValidationError) as refused:
            services.customer_create(
                tenant=tenant,
                data={
                    "name": "Berg AB",
                    "organisation_number": "5560360794",
                    "addresses": [swedish],
                },
            )
        assert list(_messages(refused.value)) == ["organisation_number"]
        assert _messages(refused.value)["organisation_number"][0].startswith("Invalid checksum")
        customer = services.customer_create(
            tenant=tenant,
            data={
                "name": "Berg AB",
                "organisation_number": "556036-0793",
                "vat_number": "SE556036079301",
                "addresses": [swedish],
            },
        )
        assert (customer.organisation_number, customer.vat_number) == (
            "5560360793",
            "SE556036079301",
        )


def test_a_bad_vat_number_or_address_saves_nothing(tenant):
    with tenant_scope(tenant):
        with pytest.raises(ValidationError) as refused:
            services.customer_create(
                tenant=tenant,
                data={
                    "name": "Bad Oy",
                    "vat_number": "FI15728601",
                    "addresses": [{**FINNISH_ADDRESS, "postal_code": "001"}, {"kind": "office"}],
                    "contacts": [{"first_name": "No last name"}],
                },
            )
        messages = _messages(refused.value)
        assert sorted(messages) == [
            "addresses[0].postal_code",
            "addresses[1].country",
            "addresses[1].street",
            "contacts[0].last_name",
            "vat_number",
        ]
        assert messages["vat_number"][0].startswith("Invalid checksum")
        assert messages["contacts[0].last_name"] == ["Give the last name."]
        assert Customer.objects.count() == CustomerAddress.objects.count() == 0
        assert CustomerContact.objects.count() == 0


def test_customer_numbers_are_unique_when_given(tenant):
    with tenant_scope(tenant):
        services.customer_create(tenant=tenant, data={"name": "A", "number": "1"})
        services.customer_create(tenant=tenant, data={"name": "B"})
        services.customer_create(tenant=tenant, data={"name": "C"})
        with pytest.raises(ValidationError) as refused:
            services.customer_create(tenant=tenant, data={"name": "D", "number": "1"})
        assert _messages(refused.value) == {"number": ["Another customer has the number 1."]}


def test_a_customer_update_replaces_addresses_only_when_given(tenant):
    with tenant_scope(tenant):
        customer = services.customer_create(
            tenant=tenant, data={"name": "A", "addresses": [FINNISH_ADDRESS]}
        )
        services.customer_update(customer=customer, data={"name": "A2"})
        assert customer.addresses.count() == 1
        before = Customer.objects.get(pk=customer.pk).updated_at
        services.customer_update(
            customer=customer, data={"addresses": [{**FINNISH_ADDRESS, "kind": "postal"}]}
        )
        assert list(customer.addresses.values_list("kind", flat=True)) == ["postal"]
        assert Customer.objects.get(pk=customer.pk).updated_at > before


# Projects and fees ------------------------------------------------------------------------


def test_project_numbers_are_unique_and_the_customer_is_the_tenants(tenant, other_tenant):
    with scopes_disabled():
        foreign_customer = CustomerFactory(tenant=other_tenant)
    with tenant_scope(tenant):
        customer = CustomerFactory(tenant=tenant)
        services.project_create(
            tenant=tenant, data={"number": "P1", "name": "Web", "customer": customer}
        )
        with pytest.raises(ValidationError) as refused:
            services.project_create(
                tenant=tenant,
                data={"number": "P1", "name": "Web 2", "customer": foreign_customer},
            )
        assert _messages(refused.value) == {
            "customer": ["No such customer."],
            "number": ["Another project has the number P1."],
        }
        assert Project.objects.count() == 1


def test_a_project_fee_takes_its_description_from_the_product(tenant):
    with tenant_scope(tenant):
        project = ProjectFactory(customer__tenant=tenant)
        product = ProductFactory(tenant=tenant, name="Subcontracting")
        fee = services.project_fee_create(
            tenant=tenant,
            data={
                "project": project,
                "product": product,
                "date": datetime.date(2026, 3, 1),
                "quantity": Decimal("2"),
                "unit_cost": Decimal("50.00"),
                "is_billable": False,
            },
        )
        assert (fee.description, fee.quantity, fee.unit_price, fee.is_billable) == (
            "Subcontracting",
            Decimal("2"),
            Decimal(0),
            False,
        )
        with pytest.raises(ValidationError) as refused:
            services.project_fee_create(
                tenant=tenant, data={"project": project, "quantity": Decimal(0)}
            )
        assert _messages(refused.value) == {
            "description": ["Give a description or choose a product."],
            "date": ["Give the date of the fee."],
            "quantity": ["The quantity is more than zero."],
        }
        assert ProjectFee.objects.count() == 1


# Invoice statuses and invoices ------------------------------------------------------------


def test_a_new_company_starts_with_the_default_invoice_statuses_in_its_language(other_tenant):
    with scopes_disabled():
        before = list(InvoiceStatus.objects.filter(tenant=other_tenant).values_list("pk", "name"))
    tenant = tenant_create(
        name="Nya Bolaget AB", country="SE", business_id="", vat_number="", actor=None
    )
    with tenant_scope(tenant):
        assert [(s.name, s.position, s.is_active) for s in InvoiceStatus.objects.all()] == [
            ("Utkast", 10, True),
            ("Klar att skicka", 20, True),
            ("Skickad", 30, True),
            ("Betald", 40, True),
        ]
        first = list(InvoiceStatus.objects.values_list("pk", flat=True))
    # A company that has statuses keeps them.
    again = services.invoice_statuses_default(tenant=tenant)
    assert [status.pk for status in again] == first
    with scopes_disabled():
        assert InvoiceStatus.objects.filter(tenant=tenant).count() == 4
        assert (
            list(InvoiceStatus.objects.filter(tenant=other_tenant).values_list("pk", "name"))
            == before
        )


def test_the_migration_gives_the_default_statuses_to_companies_without_any(tenant, other_tenant):
    migration = importlib.import_module("records.migrations.0003_default_invoice_statuses")
    tenant.language = "fi"
    tenant.save(update_fields=["language"])
    with scopes_disabled():
        InvoiceStatus.objects.filter(tenant=tenant).delete()
        InvoiceStatusFactory(tenant=other_tenant, name="Own")
        kept = list(
            InvoiceStatus.objects.filter(tenant=other_tenant).values_list("pk", "name", "position")
        )

        migration.statuses_create(django_apps, None)

        assert list(
            InvoiceStatus.objects.filter(tenant=tenant).values_list("name", "position")
        ) == [("Luonnos", 10), ("Valmis lähetettäväksi", 20), ("Lähetetty", 30), ("Maksettu", 40)]
        assert (
            list(
                InvoiceStatus.objects.filter(tenant=other_tenant).values_list(
                    "pk", "name", "position"
                )
            )
            == kept
        )


def test_an_invoice_starts_in_the_first_status_and_rows_take_the_products_values(tenant):
    with tenant_scope(tenant):
        customer = CustomerFactory(tenant=tenant)
        product = ProductFactory(
            tenant=tenant, name="Design", price=Decimal("80.00"), vat_rate=Decimal("25.50")
        )
        invoice = services.customer_invoice_create(
            tenant=tenant,
            data={
                "number": "1001",
                "customer": customer,
                "invoice_date": datetime.date(2026, 3, 2),
                "due_date": datetime.date(2026, 3, 16),
                "rows": [
                    {"product": product, "quantity": Decimal("3")},
                    {"description": "Travel", "quantity": Decimal("1"), "unit_price": "12.40"},
                ],
            },
        )
        assert invoice.status.name == "Draft"
        rows = list(invoice.rows.all())
        assert [(r.position, r.description, r.unit_price, r.vat_rate, r.net) for r in rows] == [
            (1, "Design", Decimal("80.00"), Decimal("25.50"), Decimal("240.00")),
            (2, "Travel", Decimal("12.40"), Decimal("0.00"), Decimal("12.40")),
        ]


def test_an_invalid_invoice_saves_nothing(tenant, other_tenant):
    with scopes_disabled():
        foreign_project = ProjectFactory(customer__tenant=other_tenant)
    with tenant_scope(tenant):
        customer = CustomerFactory(tenant=tenant)
        other_customers_project = ProjectFactory(customer__tenant=tenant)
        data = {
            "customer": customer,
            "invoice_date": datetime.date(2026, 3, 2),
            "due_date": datetime.date(2026, 3, 1),
            "currency": "usd",
            "rows": [{"quantity": Decimal("1")}],
        }
        with pytest.raises(ValidationError) as refused:
            services.customer_invoice_create(
                tenant=tenant, data={**data, "project": other_customers_project}
            )
        assert _messages(refused.value) == {
            "project": ["The project belongs to another customer."],
            "due_date": ["The due date is on or after the invoice date."],
            "currency": ["Choose one of the currencies DKK, EUR, NOK, SEK."],
            "rows[0].description": ["Give a description or choose a product."],
            "rows[0].unit_price": ["Give a unit price."],
        }
        with pytest.raises(ValidationError) as refused:
            services.customer_invoice_create(
                tenant=tenant, data={**data, "project": foreign_project}
            )
        assert _messages(refused.value)["project"] == ["No such project."]
        assert CustomerInvoice.objects.count() == CustomerInvoiceRow.objects.count() == 0


def test_invoice_numbers_are_unique_and_an_update_replaces_the_rows(tenant):
    with tenant_scope(tenant):
        customer = CustomerFactory(tenant=tenant)
        base = {"customer": customer, "invoice_date": clock.today()}
        invoice = services.customer_invoice_create(
            tenant=tenant,
            data={
                **base,
                "number": "7",
                "rows": [{"description": "A", "quantity": 1, "unit_price": 5}],
            },
        )
        with pytest.raises(ValidationError) as refused:
            services.customer_invoice_create(tenant=tenant, data={**base, "number": "7"})
        assert _messages(refused.value) == {"number": ["Another invoice has the number 7."]}
        paid = InvoiceStatus.objects.get(name="Paid")
        services.customer_invoice_update(
            customer_invoice=invoice,
            data={"status": paid, "rows": [{"description": "B", "quantity": 2, "unit_price": 5}]},
        )
        invoice.refresh_from_db()
        assert invoice.status == paid
        assert [(r.description, r.net) for r in invoice.rows.all()] == [("B", Decimal("10.00"))]


def test_an_attachment_is_stored_and_an_empty_or_huge_one_refused(tenant):
    with tenant_scope(tenant):
        customer = CustomerFactory(tenant=tenant)
        invoice = services.customer_invoice_create(
            tenant=tenant, data={"customer": customer, "invoice_date": clock.today()}
        )
        attachment = services.customer_invoice_attachment_add(
            customer_invoice=invoice,
            file_name="a.pdf",
            content_type="application/pdf",
            content=b"x",
        )
        assert bytes(attachment.content) == b"x"
        for content, message in (
            (b"", "The file is empty."),
            (b"x" * (services.MAX_ATTACHMENT_BYTES + 1), "A file is at most 10 MB."),
        ):
            with pytest.raises(ValidationError) as refused:
                services.customer_invoice_attachment_add(
                    customer_invoice=invoice, file_name="b.pdf", content_type="", content=content
                )
            assert _messages(refused.value) == {"content": [message]}
        assert invoice.attachments.count() == 1


# Employees --------------------------------------------------------------------------------


def test_employees_follow_the_tenants_users(tenant, other_tenant):
    with scopes_disabled():
        active = MembershipFactory(
            tenant=tenant, user=UserFactory(first_name="Aino", last_name="Aalto")
        )
        inactive = MembershipFactory(tenant=tenant, is_active=False)
        MembershipFactory(tenant=other_tenant)
    assert services.employee_sync_from_members(tenant=tenant) == 2
    assert services.employee_sync_from_members(tenant=tenant) == 0
    with tenant_scope(tenant):
        employee = Employee.objects.get(user=active.user)
        assert (employee.first_name, employee.last_name, employee.is_active) == (
            "Aino",
            "Aalto",
            True,
        )
        assert Employee.objects.get(user=inactive.user).is_active is False
        assert Employee.objects.count() == 2
    with scopes_disabled():
        active.is_active = False
        active.save()
    services.employee_sync_from_members(tenant=tenant)
    with tenant_scope(tenant):
        assert Employee.objects.get(user=active.user).is_active is False


def test_an_employee_links_only_a_user_of_the_tenant_once(tenant, other_tenant):
    with scopes_disabled():
        member = MembershipFactory(tenant=tenant).user
        outsider = MembershipFactory(tenant=other_tenant).user
    with tenant_scope(tenant):
        services.employee_create(tenant=tenant, data={"first_name": "A", "user": member})
        with pytest.raises(ValidationError) as refused:
            services.employee_create(tenant=tenant, data={"first_name": "B", "user": member})
        assert _messages(refused.value) == {
            "user": ["This user is already linked to another employee."]
        }
        with pytest.raises(ValidationError) as refused:
            services.employee_create(tenant=tenant, data={"first_name": "C", "user": outsider})
        assert _messages(refused.value) == {
            "user": ["Only users of the company can be linked to an employee."]
        }
