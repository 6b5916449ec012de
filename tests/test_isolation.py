import pytest
from django_scopes import ScopeError, scope, scopes_disabled

from accounts.models import AuditEvent, Membership, Partner, Tenant
from severa import clock
from tests.factories import PartnerFactory
from tests.isolation import (
    TENANT_OBJECT_FACTORIES,
    build_world,
    discover_routes,
    isolation_walk,
    tenant_owned_models,
)

pytestmark = pytest.mark.django_db


def test_every_tenant_owned_model_has_a_direct_non_null_tenant_key_and_a_scoped_manager():
    models = tenant_owned_models()
    assert Membership in models
    problems = []
    for model in models:
        field = next((f for f in model._meta.fields if f.name == "tenant"), None)
        if (
            field is None
            or field.related_model is not Tenant
            or (field.null and not _owned_by_tenant_or_partner(model) and model is not AuditEvent)
        ):
            problems.append(f"{model._meta.label}: needs a non-null ForeignKey 'tenant'")
            continue
        with pytest.raises(ScopeError):
            list(model._default_manager.all())
        if model not in TENANT_OBJECT_FACTORIES:
            problems.append(f"{model._meta.label}: add it to TENANT_OBJECT_FACTORIES")
    assert problems == []


def test_audit_events_without_a_tenant_show_in_no_tenants_scope(tenant, other_tenant):
    """The audit log is the one tenant-scoped model whose tenant may be empty: a partner's
    or the operators' own events. The scoped manager filters on the tenant, so a company's
    scope shows only its own events, never those."""
    partner = PartnerFactory()
    with scopes_disabled():
        own = AuditEvent.objects.create(tenant=tenant, action="a", created_at=clock.now())
        AuditEvent.objects.create(tenant=other_tenant, action="b", created_at=clock.now())
        AuditEvent.objects.create(partner=partner, action="c", created_at=clock.now())
        AuditEvent.objects.create(action="d", created_at=clock.now())
    with pytest.raises(ScopeError):
        AuditEvent.objects.count()
    with scope(tenant=tenant.pk):
        assert list(AuditEvent.objects.all()) == [own]
        assert AuditEvent.objects.filter(tenant=None).count() == 0


def _owned_by_tenant_or_partner(model) -> bool:
    """A billing row of a tenant or a partner, or an outbox message (accounts/scoping.py): its
    tenant key may be null only with a partner key and a check constraint on the two (exactly
    one set; for an outbox message, not both: mail about a user's own account has neither),
    and the manager that scopes by either."""
    from accounts.scoping import BuyerScopedManager

    partner = next((f for f in model._meta.fields if f.name == "partner"), None)
    return (
        isinstance(model._default_manager, BuyerScopedManager)
        and partner is not None
        and partner.related_model is Partner
        and any(c.name.endswith("tenant_or_partner") for c in model._meta.constraints)
    )


def test_a_query_without_tenant_scope_raises_instead_of_returning_everything(tenant, other_tenant):
    with scopes_disabled():
        Membership.objects.create(tenant=tenant, user=_user("a"))
        Membership.objects.create(tenant=other_tenant, user=_user("b"))
    with pytest.raises(ScopeError):
        Membership.objects.count()
    with pytest.raises(ScopeError):
        Membership.objects.filter(user__username="a").first()
    with scope(tenant=tenant.pk):
        assert [m.user.username for m in Membership.objects.all()] == ["a"]
        # Even an explicit filter on the other tenant stays inside the scope.
        assert Membership.objects.filter(tenant=other_tenant).count() == 0


def _user(username):
    from tests.factories import UserFactory

    return UserFactory(username=username)


def test_the_walker_discovers_web_and_api_routes_by_itself():
    templates = {route.template for route in discover_routes()}
    assert "/t/<int:tenant_id>/users/" in templates
    assert "/api/v1/tenants/<int:tenant_id>/invitations/<int:invitation_id>" in templates
    assert "/p/<int:partner_id>/" in templates


def test_every_route_answers_404_to_every_actor_for_another_tenants_ids():
    world = build_world()
    leaks, requests = isolation_walk(world)
    assert [str(leak) for leak in leaks] == []
    assert requests > 300


def test_the_walker_fails_on_a_deliberately_unscoped_view(settings):
    settings.ROOT_URLCONF = "tests.isolation_leaky_urls"
    world = build_world()
    leaks, _ = isolation_walk(world, urlconf="tests.isolation_leaky_urls")
    leaked_paths = {leak.path for leak in leaks}
    foreign_membership = world.foreign_objects[Membership]
    assert f"/t/{world.own_tenant.pk}/leak/{foreign_membership}/" in leaked_paths
    assert all("/leak/" in path for path in leaked_paths)


def test_own_ids_do_reach_the_pages(verified_client, admin_user, tenant):
    client = verified_client(admin_user)
    for page in ("", "users/", "upgrades/", "billing/", "integrations/"):
        assert client.get(f"/t/{tenant.pk}/{page}").status_code == 200
