"""Fortnox customers: the set-up guide's three onboarding scenarios, the rules of what is
sent and what comes back (customer number, VAT number, an address, COMPANY only), the
address kinds, contacts, matching by number, and the master rule both ways."""

import pytest
from django_scopes import scope, scopes_disabled

from integrations.models import Master, SyncRunStatus
from records.models import Customer, CustomerAddress
from tests.factories import CustomerAddressFactory, CustomerContactFactory, CustomerFactory
from tests.integrations.fortnox.sync_helpers import log, outcome_of, records_of, sync, writes

pytestmark = pytest.mark.django_db


def severa_customer(tenant, number, name, *, vat="FI15728600", addresses=("invoice",), **extra):
    with scopes_disabled():
        customer = CustomerFactory(tenant=tenant, number=number, name=name, vat_number=vat, **extra)
        for kind in addresses:
            CustomerAddressFactory(customer=customer, kind=kind, street=f"{kind} street 1")
    return customer


def fortnox_customer(fortnox, number, name, **fields):
    record = {
        "CustomerNumber": number,
        "Name": name,
        "Type": "COMPANY",
        "VATNumber": "SE556677889901",
        "Address1": "Storgatan 1",
        "ZipCode": "11122",
        "City": "Stockholm",
        "CountryCode": "SE",
        **fields,
    }
    return fortnox.create_customer(record)


def test_scenario_1_customers_only_in_severa_go_to_fortnox(tenant, make_connection, fake):
    """ "Transfer all customers" with Severa as master: every valid customer is created in
    Fortnox with its addresses by kind; the others are skipped with their reason."""
    acme = severa_customer(tenant, "1001", "Acme Oy", addresses=())
    with scopes_disabled():
        CustomerAddressFactory(customer=acme, kind="invoice", street="Laskutie 1", city="Espoo")
        CustomerAddressFactory(customer=acme, kind="invoice", street="Second invoice address")
        CustomerAddressFactory(
            customer=acme, kind="postal", street="PL 12", postal_code="00101", country="FI"
        )
        CustomerAddressFactory(customer=acme, kind="office", street="Toimistokatu 3")
        CustomerAddressFactory(customer=acme, kind="visiting", street="Not mapped")
        CustomerContactFactory(customer=acme, first_name="Kaisa", last_name="Kontakti")
    severa_customer(tenant, "1002", "Beta Oy")
    severa_customer(tenant, "1003", "No VAT Oy", vat="")
    severa_customer(tenant, "1004", "Nowhere Oy", addresses=())
    severa_customer(tenant, "", "Unnumbered Oy")
    connection = make_connection(customers_master=Master.SEVERA)

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    customers = records_of(fake, "customers")
    assert set(customers) == {"1001", "1002"}
    sent = customers["1001"]
    assert (sent["Name"], sent["Type"], sent["VATNumber"]) == ("Acme Oy", "COMPANY", "FI15728600")
    # invoice → Address1…, postal → Delivery…, office → Visiting…; the first of a kind wins.
    assert (sent["Address1"], sent["City"]) == ("Laskutie 1", "Espoo")
    assert (sent["DeliveryAddress1"], sent["DeliveryZipCode"]) == ("PL 12", "00101")
    assert sent["VisitingAddress"] == "Toimistokatu 3"
    assert sent["YourReference"] == "Kaisa Kontakti"
    assert outcome_of(run, "1001 Acme") == ("created", "")
    assert outcome_of(run, "1003")[0] == "skipped"
    assert "VAT number" in outcome_of(run, "1003")[1]
    assert "address" in outcome_of(run, "1004")[1]
    assert "customer number" in outcome_of(run, "Unnumbered")[1]


def test_scenario_2_customers_only_in_fortnox_come_to_severa(
    tenant, make_connection, fake, fortnox
):
    """Only companies with a VAT number and an address come from Fortnox, with their
    addresses by kind and their contact."""
    fortnox_customer(
        fortnox,
        "2001",
        "Borealis AB",
        DeliveryAddress1="Box 7",
        DeliveryZipCode="10005",
        DeliveryCity="Stockholm",
        DeliveryCountryCode="SE",
        VisitingAddress="Kungsgatan 5",
        VisitingCity="Stockholm",
        YourReference="Sven Svensson",
        Email="ap@borealis.test",
    )
    fortnox_customer(fortnox, "2002", "Private Person", Type="PRIVATE")
    fortnox_customer(fortnox, "2003", "Utan Moms AB", VATNumber="")
    fortnox_customer(fortnox, "2004", "Adresslös AB", Address1="", City="", ZipCode="")
    connection = make_connection()

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, log(run)
    with scope(tenant=tenant.pk):
        assert list(Customer.objects.values_list("number", flat=True)) == ["2001"]
        borealis = Customer.objects.get(number="2001")
        addresses = {a.kind: (a.street, a.city, a.country) for a in CustomerAddress.objects.all()}
        contact = borealis.contacts.get()
    assert (borealis.name, borealis.vat_number, borealis.email) == (
        "Borealis AB",
        "SE556677889901",
        "ap@borealis.test",
    )
    assert addresses == {
        "invoice": ("Storgatan 1", "Stockholm", "SE"),
        "postal": ("Box 7", "Stockholm", "SE"),
        "office": ("Kungsgatan 5", "Stockholm", "SE"),
    }
    assert (contact.first_name, contact.last_name) == ("Sven", "Svensson")
    assert outcome_of(run, "2002")[1] == "Only customers of type company come from Fortnox."
    assert "VAT number" in outcome_of(run, "2003")[1]
    assert "address" in outcome_of(run, "2004")[1]
    # Fortnox wrote nothing: the customer it sent is paired, not sent back.
    assert writes(fake) == 4  # the four set-up creates


def test_scenario_3_no_customers_yet_new_ones_flow_both_ways(
    tenant, make_connection, fake, fortnox
):
    """Without "transfer all customers" only customers created after the activation are
    transferred, in both directions."""
    severa_customer(tenant, "900", "Old Customer Oy")
    connection = make_connection(transfer_all_customers=False)
    severa_customer(tenant, "3001", "New in Severa Oy")
    fortnox_customer(fortnox, "3002", "New in Fortnox AB")

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert set(records_of(fake, "customers")) == {"3001", "3002"}
    with scope(tenant=tenant.pk):
        assert set(Customer.objects.values_list("number", flat=True)) == {"900", "3001", "3002"}
    assert outcome_of(run, "3001")[0] == "created"
    assert outcome_of(run, "3002")[0] == "created"


def test_a_customer_in_both_systems_is_matched_by_number(tenant, make_connection, fake, fortnox):
    severa_customer(tenant, "4001", "Gamma Oy")
    fortnox_customer(fortnox, "4001", "Gamma Oy (Fortnox name)")
    before = writes(fake)
    connection = make_connection()

    run = sync(connection)

    assert outcome_of(run, "4001") == (
        "matched",
        "Paired with the existing record of the same number/code.",
    )
    assert writes(fake) == before
    assert len(records_of(fake, "customers")) == 1
    with scope(tenant=tenant.pk):
        assert Customer.objects.count() == 1


def test_severa_master_sends_severa_changes_and_ignores_fortnox_changes(
    tenant, make_connection, fake, fortnox
):
    customer = severa_customer(tenant, "5001", "Delta Oy")
    fortnox_customer(fortnox, "5002", "Epsilon AB")
    connection = make_connection(customers_master=Master.SEVERA)
    sync(connection)

    with scopes_disabled():
        customer.name = "Delta Group Oy"
        customer.save()
    fortnox.update_customer("5002", {"Name": "Epsilon Renamed AB"})
    run = sync(connection)

    assert records_of(fake, "customers")["5001"]["Name"] == "Delta Group Oy"
    assert outcome_of(run, "5001")[0] == "updated"
    with scope(tenant=tenant.pk):
        assert Customer.objects.get(number="5002").name == "Epsilon AB"


def test_fortnox_master_applies_fortnox_changes_and_does_not_send_severa_changes(
    tenant, make_connection, fake, fortnox
):
    customer = severa_customer(tenant, "6001", "Zeta Oy")
    connection = make_connection(customers_master=Master.REMOTE)
    sync(connection)

    fortnox.update_customer("6001", {"Name": "Zeta Holding Oy", "VisitingAddress": "Uusi 9"})
    run = sync(connection)
    with scope(tenant=tenant.pk):
        customer.refresh_from_db()
        office = customer.addresses.get(kind="office")
    assert customer.name == "Zeta Holding Oy"
    assert office.street == "Uusi 9"
    assert outcome_of(run, "6001")[0] == "updated"

    with scopes_disabled():
        customer.name = "Changed in Severa Oy"
        customer.save()
    before = writes(fake)
    run = sync(connection)
    assert writes(fake) == before
    assert records_of(fake, "customers")["6001"]["Name"] == "Zeta Holding Oy"
    outcome, reason = outcome_of(run, "6001")
    assert outcome == "skipped"
    assert "master" in reason
    assert [entry[3] for entry in log(run)] == ["skipped"]


def test_a_field_emptied_in_severa_is_cleared_in_fortnox(tenant, make_connection, fake):
    acme = severa_customer(tenant, "1001", "Acme Oy", phone="+358 40 123 4567")
    connection = make_connection(customers_master=Master.SEVERA)
    sync(connection)
    assert records_of(fake, "customers")["1001"]["Phone1"] == "+358 40 123 4567"
    with scopes_disabled():
        Customer.objects.filter(pk=acme.pk).update(phone="")
        acme.refresh_from_db()
        acme.save()  # a change for the sync

    run = sync(connection)

    assert outcome_of(run, "1001")[0] == "updated"
    # Fortnox keeps a field sent as "" and clears one sent as API_BLANK.
    assert records_of(fake, "customers")["1001"]["Phone1"] is None
    body = [entry for entry in fake.requests(method="PUT", path_prefix="/3/customers/1001")]
    assert len(body) == 1
    # Read back, the cleared record is no change: the next run writes nothing.
    before = writes(fake)
    assert log(sync(connection)) == []
    assert writes(fake) == before


def test_customers_from_fortnox_go_through_the_records_checks_and_are_audited(
    tenant, make_connection, fake, fortnox
):
    from accounts.models import AuditEvent

    fortnox_customer(fortnox, "2001", "Nordic Trading AB")
    fortnox_customer(fortnox, "2002", "A" * 300)  # longer than a Severa customer name
    connection = make_connection(customers_master=Master.REMOTE)

    run = sync(connection)

    outcome, reason = outcome_of(run, "2002")
    assert outcome == "failed"  # refused with the reason, not cut short
    assert reason.startswith("name:")
    with scope(tenant=tenant.pk):
        assert not Customer.objects.filter(number="2002").exists()
        created = Customer.objects.get(number="2001")
        event = AuditEvent.objects.get(action="records.customer.created")
    assert (event.actor, event.actor_kind, event.actor_label) == (
        None,
        "connection",
        f"integration:fortnox:{connection.pk}",
    )
    assert event.details["record_id"] == created.pk


def test_an_update_whose_answer_was_lost_is_read_back_not_sent_again(tenant, make_connection, fake):
    acme = severa_customer(tenant, "1001", "Acme Oy", phone="+358 40 123 4567")
    connection = make_connection(customers_master=Master.SEVERA)
    sync(connection)
    with scopes_disabled():
        acme.refresh_from_db()
        acme.name = "Acme Group Oy"
        acme.phone = ""
        acme.save()
    # Fortnox applies the update but the answer never comes.
    fake.inject("lost_response", count=1, method="PUT", path_prefix="/3/customers/1001")

    first = sync(connection)

    assert outcome_of(first, "1001")[0] == "unverified"
    assert records_of(fake, "customers")["1001"]["Name"] == "Acme Group Oy"
    puts = len(fake.requests(method="PUT", path_prefix="/3/customers/1001"))

    second = sync(connection)

    assert outcome_of(second, "1001") == (
        "updated",
        "The earlier update had been applied (read back).",
    )
    assert len(fake.requests(method="PUT", path_prefix="/3/customers/1001")) == puts
    assert log(sync(connection)) == []
