import pytest
from django_scopes import scopes_disabled

from partners.models import Engagement
from severa import clock
from tests.factories import (
    PartnerFactory,
    PartnerMembershipFactory,
    SellerEntityFactory,
    catalog_create,
)


@pytest.fixture
def catalog(db):
    catalog_create()


@pytest.fixture
def seller(db):
    return SellerEntityFactory(name="Severa Finland Oy")


@pytest.fixture
def partner(db):
    return PartnerFactory(name="Tilitoimisto Luku Oy")


@pytest.fixture
def partner_user(partner):
    return PartnerMembershipFactory(partner=partner, user__email="anna@luku.test").user


@pytest.fixture
def other_partner(db):
    return PartnerFactory(name="Kilpailija Partners Oy")


@pytest.fixture
def engagement(partner):
    with scopes_disabled():
        return Engagement.objects.create(
            partner=partner, name="Bookkeeping 2025", created_at=clock.now()
        )
