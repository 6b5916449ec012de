"""The subaccount segments page: segments and values read from Visma.net ERP beside our
business units and cost centres, matches saved, a broken match shown; in the user's
language."""

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from integrations.vismanet.segments import segment_settings
from tests.factories import BusinessUnitFactory, CostCentreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(connection):
    return reverse(
        "tenant_integration_segments",
        kwargs={"tenant_id": connection.tenant_id, "connection_id": connection.pk},
    )


@pytest.fixture
def records(kit, tenant):
    kit.fake.segment_add(1, "Avdeling", length=2)
    kit.fake.segment_add(2, "Kostnadssted", length=3)
    kit.fake.segment_value_add(1, "10", "Oslo")
    kit.fake.segment_value_add(1, "20", "Bergen")
    kit.fake.segment_value_add(2, "100", "Salg")
    with scopes_disabled():
        return (
            BusinessUnitFactory(tenant=tenant, code="OSL", name="Oslo kontor"),
            BusinessUnitFactory(tenant=tenant, code="BGO", name="Bergen kontor"),
            CostCentreFactory(tenant=tenant, code="S1", name="Salg"),
        )


def test_pick_segments_then_match_values_and_see_a_broken_match(
    verified_client, admin, connection, page, records, kit
):
    oslo, bergen, sales = records
    client = verified_client(admin)
    connection_page = client.get(
        reverse(
            "tenant_integration",
            kwargs={"tenant_id": connection.tenant_id, "connection_id": connection.pk},
        )
    )
    assert page in connection_page.content.decode()

    first = client.post(page, {"department_segment": "1", "cost_centre_segment": "2"}, follow=True)
    assert "Now match the values of the newly picked segment" in first.content.decode()
    html = first.content.decode()
    assert "OSL Oslo kontor" in html and "10 Oslo" in html and "100 Salg" in html

    client.post(
        page,
        {
            "department_segment": "1",
            "cost_centre_segment": "2",
            f"bu-{oslo.pk}": "20",
            f"bu-{bergen.pk}": "20",
            f"cc-{sales.pk}": "100",
        },
    )
    with scope(tenant=connection.tenant_id):
        connection.refresh_from_db()
    settings = segment_settings(connection=connection)
    assert settings.business_units == {oslo.pk: "20", bergen.pk: "20"}
    assert settings.cost_centres == {sales.pk: "100"}

    kit.fake.segment_value_remove(1, "20")
    html = client.get(page).content.decode()
    assert html.count("Broken match") == 2
    assert "no longer in Visma.net ERP" in html


def test_a_value_of_another_segment_is_refused_and_nothing_saved(
    verified_client, admin, connection, page, records
):
    oslo, _bergen, _sales = records
    client = verified_client(admin)
    client.post(page, {"department_segment": "1", "cost_centre_segment": ""})

    answer = client.post(page, {"department_segment": "1", f"bu-{oslo.pk}": "100"}, follow=True)

    assert "100 is not a value of the picked segment" in answer.content.decode()
    assert segment_settings(connection=connection).business_units == {}


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("fi", ["Alatilin segmentit", "Osastojen segmentti", "Ei käytössä"]),
        ("sv", ["Underkontosegment", "Segment för avdelningar", "Används inte"]),
        ("nb", ["Underkontosegmenter", "Segment for avdelinger", "Brukes ikke"]),
    ],
)
def test_the_page_speaks_the_users_language(
    verified_client, admin, connection, page, records, language, shown
):
    client = verified_client(admin)
    client.cookies["django_language"] = language
    html = client.get(page).content.decode()
    for phrase in shown:
        assert phrase in html, phrase
