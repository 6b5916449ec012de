"""Fortnox units and articles: both ways, article number = numeric product code, matched by
number and name, a product whose unit Fortnox lacks is not sent; projects go to Fortnox
only."""

import time
from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from integrations.models import Master, SyncRunStatus
from records.models import Product, Project, Unit
from tests.factories import ProductFactory, ProjectFactory, UnitFactory
from tests.integrations.fortnox.sync_helpers import log, outcome_of, records_of, sync, writes

pytestmark = pytest.mark.django_db


def test_units_and_products_go_to_fortnox_and_the_rules_skip_the_others(
    tenant, make_connection, fake
):
    with scopes_disabled():
        hours = UnitFactory(tenant=tenant, code="h", name="Hour")
        ProductFactory(tenant=tenant, code="100", name="Consulting", unit=hours)
        ProductFactory(tenant=tenant, code="101", name="Licence", unit=None)
        ProductFactory(tenant=tenant, code="", name="No code")
        ProductFactory(tenant=tenant, code="A-7", name="Letters")
    connection = make_connection()

    run = sync(connection)

    assert run.status == SyncRunStatus.SUCCEEDED, run.error
    assert records_of(fake, "units")["h"]["Description"] == "Hour"
    articles = records_of(fake, "articles")
    assert set(articles) == {"100", "101"}
    assert (articles["100"]["Description"], articles["100"]["Unit"]) == ("Consulting", "h")
    assert articles["100"]["VAT"] == Decimal("25.5")
    assert "must be a number" in outcome_of(run, "No code")[1]
    assert "must be a number" in outcome_of(run, "A-7")[1]


def test_a_product_whose_unit_fortnox_lacks_is_not_sent(tenant, make_connection, fake):
    with scopes_disabled():
        km = UnitFactory(tenant=tenant, code="km", name="Kilometre")
        ProductFactory(tenant=tenant, code="200", name="Mileage", unit=km)
    # Fortnox answers the unit's create with a 500 (and did not create it): the outcome is
    # unknown to us, so the unit stays unverified and is not created again at once.
    fake.inject("error_500", count=1, method="POST", path_prefix="/3/units")
    connection = make_connection()

    run = sync(connection)

    assert outcome_of(run, "km")[0] == "unverified"
    assert outcome_of(run, "200 Mileage") == (
        "skipped",
        "Fortnox has no unit km: add it there, then sync again.",
    )
    assert records_of(fake, "articles") == {}
    assert len(fake.requests(method="POST", path_prefix="/3/units")) == 1

    # After the settling time one look-up finding nothing is not enough; the second is, and
    # the unit is created again, and so is the product.
    time.sleep(1.1)
    run = sync(connection)
    assert outcome_of(run, "km")[0] == "unverified"
    time.sleep(0.1)
    run = sync(connection)
    assert outcome_of(run, "km")[0] == "created"
    assert outcome_of(run, "200 Mileage")[0] == "created"
    assert records_of(fake, "articles")["200"]["Unit"] == "km"


def test_articles_come_to_severa_and_existing_ones_match_by_number_and_name(
    tenant, make_connection, fake, fortnox
):
    fortnox.create_unit({"Code": "st", "Description": "Styck"})
    fortnox.create_article({"ArticleNumber": "300", "Description": "Hardware", "Unit": "st"})
    fortnox.create_article({"ArticleNumber": "X1", "Description": "Not numeric"})
    fortnox.create_article({"ArticleNumber": "301", "Description": "consulting  hours"})
    fortnox.create_article({"ArticleNumber": "302", "Description": "Travel in Fortnox"})
    with scopes_disabled():
        ProductFactory(tenant=tenant, code="301", name="Consulting hours")
        ProductFactory(tenant=tenant, code="302", name="Travel")
    connection = make_connection()
    before = writes(fake)

    run = sync(connection)

    with scope(tenant=tenant.pk):
        hardware = Product.objects.select_related("unit").get(code="300")
        assert Unit.objects.get(code="st").name == "Styck"
        assert not Product.objects.filter(code="X1").exists()
    assert (hardware.name, hardware.unit.code) == ("Hardware", "st")
    assert outcome_of(run, "300")[0] == "created"
    assert "not numeric" in outcome_of(run, "X1")[1]
    assert outcome_of(run, "301")[0] == "matched"  # same number, same name
    # Same number, another name: a conflict the tenant resolves, never a second record.
    conflicts = [entry for entry in log(run, "product") if entry[2].startswith("302")]
    assert [(entry[1], entry[3]) for entry in conflicts] == [
        ("to_remote", "failed"),
        ("to_local", "failed"),
    ]
    assert "“Travel in Fortnox”" in conflicts[0][4]
    assert writes(fake) == before


def test_product_master_rules_both_ways(tenant, make_connection, fake, fortnox):
    with scopes_disabled():
        product = ProductFactory(tenant=tenant, code="400", name="Support")
    connection = make_connection(products_master=Master.REMOTE)
    sync(connection)

    fortnox.update_article("400", {"Description": "Support (Fortnox)"})
    with scopes_disabled():
        product.name = "Support (Severa)"
        product.save()
    run = sync(connection)

    with scope(tenant=tenant.pk):
        product.refresh_from_db()
    # The Severa change is not sent (logged), the Fortnox change is applied.
    assert product.name == "Support (Fortnox)"
    assert records_of(fake, "articles")["400"]["Description"] == "Support (Fortnox)"
    outcomes = {entry[1]: entry[3] for entry in log(run, "product") if "400" in entry[2]}
    assert outcomes == {"to_remote": "skipped", "to_local": "updated"}

    with scope(tenant=tenant.pk):
        connection.products_master = Master.SEVERA
        connection.save(update_fields=["products_master"])
    with scopes_disabled():
        product.name = "Support Plus"
        product.save()
    fortnox.update_article("400", {"Description": "Fortnox rename"})
    run = sync(connection)
    with scope(tenant=tenant.pk):
        product.refresh_from_db()
    assert records_of(fake, "articles")["400"]["Description"] == "Support Plus"
    assert product.name == "Support Plus"


def test_projects_go_to_fortnox_only_and_follow_severa(tenant, make_connection, fake, fortnox):
    with scopes_disabled():
        project = ProjectFactory(
            tenant=tenant, number="P-10", name="Website renewal", sales_status="won"
        )
    fortnox.create_project({"ProjectNumber": "77", "Description": "Only in Fortnox"})
    connection = make_connection()

    sync(connection)
    assert records_of(fake, "projects")["P-10"]["Description"] == "Website renewal"
    assert records_of(fake, "projects")["P-10"]["Status"] == "ONGOING"
    with scope(tenant=tenant.pk):
        assert list(Project.objects.values_list("number", flat=True)) == ["P-10"]

    with scopes_disabled():
        project.name = "Website renewal, phase 2"
        project.sales_status = "lost"
        project.save()
    run = sync(connection)
    assert outcome_of(run, "P-10")[0] == "updated"
    assert records_of(fake, "projects")["P-10"]["Status"] == "COMPLETED"
    assert records_of(fake, "projects")["P-10"]["Description"] == "Website renewal, phase 2"
