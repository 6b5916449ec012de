"""The tenant-isolation walker: every URL pattern and API route, requested by every kind of
actor with ids that belong to another tenant (or partner), must answer 404 (or 405 where the
method is not allowed at all), never anything that shows the object.

Routes are discovered from the URL resolver, so a route added later is walked without editing
this file. Path parameters are filled by name: ``tenant_id`` and ``partner_id`` name the
foreign tenant or partner, ``<model>_id`` an object of that model owned by the other tenant,
``token`` a random token. A parameter the walker cannot fill fails the walk, which forces new
routes to follow the naming rule.
"""

import secrets
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django_scopes import scopes_disabled

from accounts.models import ApiToken, AuditEvent, Collaboration, Invitation, Membership, Tenant
from accounts.services import api_token_create
from billing.models import BillingContact, BillingDetails, Invoice, InvoiceLine, Payment
from severa import clock
from subscriptions.models import (
    ChangeKind,
    OrderConfirmation,
    OrderLine,
    Quote,
    ScheduledChange,
    Subscription,
)
from tests.factories import (
    BillingContactFactory,
    BillingDetailsFactory,
    CollaborationFactory,
    MembershipFactory,
    OrderConfirmationFactory,
    PartnerFactory,
    PartnerMembershipFactory,
    SubscriptionFactory,
    UserFactory,
    invoice_create,
)

# Namespaces the walker does not enter, and why.
SKIPPED_NAMESPACES = {
    # The Django admin answers only operators (who see every tenant by design); everyone
    # else is redirected to sign in before any lookup: tested in test_operator_admin.
    "admin",
}
ACCEPTED = {404, 405}
TOKEN_PARAMETERS = {"token", "uidb64"}
# Public documents of no tenant: a seller's terms of service (tested in tests/partners).
PUBLIC_ROUTES = {"seller_terms"}
# Routes of the on-premises agents: they answer only an agent key (401 to everyone else,
# before any lookup), and an agent's key finds only its own connection's jobs (tested in
# tests/integrations/visma_global/test_agent_protocol.py).
AGENT_KEY_ROUTES = {"api_agent_job_result"}


def _partner_owned_without_tenant(model: type[models.Model]) -> bool:
    names = {model_field.name for model_field in model._meta.get_fields()}
    return "partner" in names and "tenant" not in names


def tenant_owned_models() -> list[type[models.Model]]:
    """Models that hold a tenant's data: a foreign key to Tenant, directly or through
    another tenant-owned model."""
    owned: set[type[models.Model]] = {Tenant}
    changed = True
    candidates = [m for m in apps.get_models() if m is not Tenant]
    while changed:
        changed = False
        for model in candidates:
            if model in owned:
                continue
            for model_field in model._meta.get_fields():
                if (
                    isinstance(model_field, models.ForeignKey)
                    and model_field.related_model in owned
                ):
                    owned.add(model)
                    changed = True
                    break
    owned.discard(Tenant)
    # Rows a partner owns without a tenant key (an engagement may name a customer): routes
    # reach them only under partner_id, which the walker fills with a foreign partner.
    owned -= {model for model in owned if _partner_owned_without_tenant(model)}
    return sorted(owned, key=lambda model: model._meta.label)


def _make_invitation(tenant: Tenant) -> Invitation:
    now = clock.now()
    return Invitation.objects.create(
        tenant=tenant,
        email=f"{secrets.token_hex(4)}@example.test",
        role="member",
        token_hash=secrets.token_hex(32),
        invited_by=UserFactory(),
        created_at=now,
        expires_at=now + clock_delta(days=7),
    )


def _subscription_of(tenant: Tenant) -> Subscription:
    existing = Subscription.objects.filter(tenant=tenant).first()
    return existing or SubscriptionFactory(tenant=tenant)


def _make_scheduled_change(tenant: Tenant) -> ScheduledChange:
    subscription = _subscription_of(tenant)
    return ScheduledChange.objects.create(
        tenant=tenant,
        subscription=subscription,
        kind=ChangeKind.SEATS,
        value=str(subscription.seats - 1),
        description="Seats down by one",
        effective_date=subscription.period_end + clock_delta(days=1),
        created_at=clock.now(),
    )


def _make_quote(tenant: Tenant) -> Quote:
    subscription = _subscription_of(tenant)
    return Quote.objects.create(
        tenant=tenant,
        subscription=subscription,
        subscription_version=subscription.version,
        made_on=clock.today(),
        desired={"seats": subscription.seats + 1},
        content={},
        currency=subscription.currency,
        total=0,
        created_at=clock.now(),
    )


def clock_delta(**kwargs):
    import datetime

    return datetime.timedelta(**kwargs)


# One way to make a row of each tenant-owned model for a given tenant. The model test fails
# on a tenant-owned model missing here, so every new model is walked.
TENANT_OBJECT_FACTORIES = {
    Membership: lambda tenant: MembershipFactory(tenant=tenant),
    Invitation: _make_invitation,
    Collaboration: lambda tenant: CollaborationFactory(tenant=tenant),
    AuditEvent: lambda tenant: AuditEvent.objects.create(
        tenant=tenant, action="test", created_at=clock.now()
    ),
    Subscription: _subscription_of,
    ScheduledChange: _make_scheduled_change,
    Quote: _make_quote,
    BillingDetails: lambda tenant: BillingDetailsFactory(tenant=tenant),
    BillingContact: lambda tenant: BillingContactFactory(tenant=tenant),
    OrderConfirmation: lambda tenant: OrderConfirmationFactory(tenant=tenant),
    OrderLine: lambda tenant: OrderConfirmationFactory(tenant=tenant).lines.first(),
    Invoice: invoice_create,
    InvoiceLine: lambda tenant: invoice_create(tenant).lines.get(),
    Payment: lambda tenant: Payment.objects.create(
        tenant=tenant,
        invoice=invoice_create(tenant),
        amount=10,
        paid_on=clock.today(),
        registered_at=clock.now(),
    ),
}


# Invoice delivery (billing/delivery.py): e-mailed links, their views, the outbox.
def _make_invoice_link(tenant: Tenant):
    from billing.links import invoice_link_create

    link, _token = invoice_link_create(
        invoice=invoice_create(tenant), contact=None, email=f"{secrets.token_hex(4)}@example.test"
    )
    return link


def _make_invoice_link_view(tenant: Tenant):
    from billing.models import InvoiceLinkView

    return InvoiceLinkView.objects.create(
        tenant=tenant, link=_make_invoice_link(tenant), kind="view", viewed_at=clock.now()
    )


def _make_outbox_message(tenant: Tenant):
    from accounts.models import OutboxMessage

    now = clock.now()
    return OutboxMessage.objects.create(
        tenant=tenant,
        kind="role_changed_notice",
        to="admin@example.test",
        subject="Role changed",
        body="…",
        dedupe_key=f"role_changed_notice:{secrets.token_hex(8)}:admin@example.test",
        status="failed",
        next_attempt_at=now,
        created_at=now,
    )


def _make_invoice_message(tenant: Tenant):
    from accounts.models import OutboxMessage
    from billing.models import InvoiceMessage

    invoice = invoice_create(tenant)
    now = clock.now()
    message = OutboxMessage.objects.create(
        tenant=tenant,
        kind="invoice_link",
        to="ap@example.test",
        subject="Invoice",
        body="…",
        dedupe_key=f"invoice:{invoice.pk}:link:ap@example.test",
        status="failed",
        next_attempt_at=now,
        created_at=now,
    )
    return InvoiceMessage.objects.create(message=message, tenant=tenant, invoice=invoice)


def _make_einvoice_delivery(tenant: Tenant):
    from billing.models import EInvoiceDelivery

    now = clock.now()
    return EInvoiceDelivery.objects.create(
        tenant=tenant,
        invoice=invoice_create(tenant),
        channel="peppol",
        document=b"<Invoice/>",
        status="failed",
        next_attempt_at=now,
        created_at=now,
    )


def _register_delivery_factories() -> None:
    from accounts.models import OutboxMessage
    from billing.models import EInvoiceDelivery, InvoiceLink, InvoiceLinkView, InvoiceMessage

    TENANT_OBJECT_FACTORIES[EInvoiceDelivery] = _make_einvoice_delivery

    TENANT_OBJECT_FACTORIES[InvoiceLink] = _make_invoice_link
    TENANT_OBJECT_FACTORIES[InvoiceLinkView] = _make_invoice_link_view
    TENANT_OBJECT_FACTORIES[OutboxMessage] = _make_outbox_message
    TENANT_OBJECT_FACTORIES[InvoiceMessage] = _make_invoice_message


_register_delivery_factories()


def _register_record_factories() -> None:
    from records import models as records
    from tests import factories

    TENANT_OBJECT_FACTORIES.update(
        {
            records.BusinessUnit: lambda tenant: factories.BusinessUnitFactory(tenant=tenant),
            records.CostCentre: lambda tenant: factories.CostCentreFactory(tenant=tenant),
            records.Employee: lambda tenant: factories.EmployeeFactory(tenant=tenant),
            records.Unit: lambda tenant: factories.UnitFactory(tenant=tenant),
            records.Product: lambda tenant: factories.ProductFactory(tenant=tenant),
            records.Customer: lambda tenant: factories.CustomerFactory(tenant=tenant),
            records.CustomerAddress: lambda tenant: factories.CustomerAddressFactory(
                customer__tenant=tenant
            ),
            records.CustomerContact: lambda tenant: factories.CustomerContactFactory(
                customer__tenant=tenant
            ),
            records.Project: lambda tenant: factories.ProjectFactory(customer__tenant=tenant),
            records.InvoiceStatus: lambda tenant: factories.InvoiceStatusFactory(tenant=tenant),
            records.CustomerInvoice: lambda tenant: factories.CustomerInvoiceFactory(
                customer__tenant=tenant
            ),
            records.CustomerInvoiceRow: lambda tenant: factories.CustomerInvoiceRowFactory(
                invoice__customer__tenant=tenant
            ),
            records.CustomerInvoiceAttachment: lambda tenant: (
                factories.CustomerInvoiceAttachmentFactory(invoice__customer__tenant=tenant)
            ),
            records.ProjectFee: lambda tenant: factories.ProjectFeeFactory(
                project__customer__tenant=tenant
            ),
        }
    )


_register_record_factories()


@dataclass
class World:
    own_tenant: Tenant
    foreign_tenant: Tenant
    actors: dict[str, object]
    own_partner_id: int
    foreign_partner_id: int
    foreign_objects: dict[type[models.Model], int] = field(default_factory=dict)
    own_objects: dict[type[models.Model], int] = field(default_factory=dict)
    # Rows a partner owns (PARTNER_OBJECT_FACTORIES): routes under partner_id get these.
    foreign_partner_objects: dict[type[models.Model], int] = field(default_factory=dict)
    own_partner_objects: dict[type[models.Model], int] = field(default_factory=dict)


def build_world() -> World:
    with scopes_disabled():
        own = Tenant.objects.create(name="Own Oy", country="FI")
        foreign = Tenant.objects.create(name="Foreign Oy", country="FI")
        actors = {
            role: MembershipFactory(tenant=own, role=role).user
            for role in ("admin", "billing", "member")
        }
        own_partner = PartnerFactory()
        foreign_partner = PartnerFactory()
        partner_user = PartnerMembershipFactory(partner=own_partner).user
        CollaborationFactory(partner=own_partner, tenant=own)
        CollaborationFactory(partner=foreign_partner, tenant=foreign)
        actors["partner"] = partner_user
        world = World(own, foreign, actors, own_partner.pk, foreign_partner.pk)
        for model in tenant_owned_models():
            make = TENANT_OBJECT_FACTORIES[model]
            world.foreign_objects[model] = make(foreign).pk
            world.own_objects[model] = make(own).pk
        for model, make_partner_owned in PARTNER_OBJECT_FACTORIES.items():
            world.foreign_partner_objects[model] = make_partner_owned(foreign_partner).pk
            world.own_partner_objects[model] = make_partner_owned(own_partner).pk
        # Rows of no tenant that operator routes name (e.g. a seller migration): every
        # other actor must get 404 for them whatever the id.
        for model, make_shared in SHARED_OBJECT_FACTORIES.items():
            world.foreign_objects[model] = world.own_objects[model] = make_shared().pk
        # A user's own rows (API tokens): another user's answer 404 to every actor.
        foreign_token, _key = api_token_create(user=MembershipFactory(tenant=foreign).user)
        world.foreign_objects[ApiToken] = world.own_objects[ApiToken] = foreign_token.pk
    return world


def _model_for(parameter: str) -> type[models.Model] | None:
    if not parameter.endswith("_id"):
        return None
    wanted = parameter[: -len("_id")].replace("_", "")
    for model in apps.get_models():
        if model._meta.model_name == wanted:
            return model
    return None


@dataclass(frozen=True)
class Route:
    template: str  # e.g. "/t/<int:tenant_id>/users/<int:membership_id>/role/"
    name: str
    parameters: tuple[str, ...]


def discover_routes(urlconf: str | None = None) -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in SKIPPED_NAMESPACES:
                    continue
                walk(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace)
            elif isinstance(entry, URLPattern):
                if not isinstance(entry.pattern, RoutePattern) and entry.pattern.regex.groups:
                    raise AssertionError(
                        f"Route {prefix}{entry.pattern} uses a regex with groups: use path()."
                    )
                template = "/" + prefix + str(entry.pattern)
                converters = {**_converters(prefix), **entry.pattern.converters}
                # Only routes that take an id can point at another tenant's data; routes
                # that take a random token alone are tested with their own link tests.
                if (
                    set(converters) - TOKEN_PARAMETERS
                    and entry.name not in PUBLIC_ROUTES
                    and entry.name not in AGENT_KEY_ROUTES
                ):
                    routes.append(Route(template, entry.name or "", tuple(converters)))

    walk(get_resolver(urlconf).url_patterns, "", None)
    return routes


def _converters(prefix: str) -> dict:
    return RoutePattern(prefix).converters if "<" in prefix else {}


def _fill(route: Route, values: dict[str, object]) -> str:
    path = route.template
    for parameter in route.parameters:
        value = values[parameter]
        for converter in ("int", "str", "slug", "path", "uuid"):
            path = path.replace(f"<{converter}:{parameter}>", str(value))
        path = path.replace(f"<{parameter}>", str(value))
    return path


@dataclass(frozen=True)
class Leak:
    actor: str
    method: str
    path: str
    status: int

    def __str__(self) -> str:
        return f"{self.actor} {self.method} {self.path} -> {self.status}"


def _clients(world: World) -> dict[str, tuple[Client, Client]]:
    """Per actor: a signed-in, two-factor-verified browser client and a bearer-token client."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    clients = {}
    for name, user in world.actors.items():
        device = TOTPDevice.objects.create(user=user, name="walker", confirmed=True)
        browser = Client()
        browser.force_login(user, backend="accounts.request_cache.CachedModelBackend")
        session = browser.session
        session["otp_device_id"] = device.persistent_id
        session.save()
        _token, key = api_token_create(user=user)
        api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        clients[name] = (browser, api)
    return clients


def isolation_walk(world: World, urlconf: str | None = None) -> tuple[list[Leak], int]:
    """Walk every route; returns the leaks found and how many requests were made."""
    leaks: list[Leak] = []
    requests = 0
    clients = _clients(world)
    for route in discover_routes(urlconf):
        cases = _cases(route, world)
        for actor, (browser, api) in clients.items():
            client = api if route.template.startswith("/api/") else browser
            for values, own_values in cases:
                path = _fill(route, values)
                for method in ("get", "post", "put", "patch", "delete"):
                    response = getattr(client, method)(path)
                    requests += 1
                    status = response.status_code
                    if status == 403 and own_values is not None:
                        # A role refusal in the actor's own tenant is fine if it does not
                        # depend on the object: the same request on its own object is
                        # refused the same way.
                        own_path = _fill(route, own_values)
                        requests += 1
                        if getattr(client, method)(own_path).status_code == 403:
                            continue
                    if status not in ACCEPTED:
                        leaks.append(Leak(actor, method.upper(), path, status))
    return leaks, requests


def _cases(route: Route, world: World) -> list[tuple[dict, dict | None]]:
    """Parameter sets that each point at something the actors must not reach, each with the
    matching set of the actor's own ids where the route is in the actor's own tenant."""
    own: dict[str, object] = {}
    foreign: dict[str, object] = {}
    # Under a partner, ids name the partner's own rows where it has such (its invoices).
    under_partner = "partner_id" in route.parameters
    for parameter in route.parameters:
        if parameter == "tenant_id":
            own[parameter], foreign[parameter] = world.own_tenant.pk, world.foreign_tenant.pk
        elif parameter == "partner_id":
            own[parameter], foreign[parameter] = world.own_partner_id, world.foreign_partner_id
        elif parameter in TOKEN_PARAMETERS:
            own[parameter] = foreign[parameter] = secrets.token_urlsafe(16)
        else:
            model = _model_for(parameter)
            if model is None or model not in world.foreign_objects:
                raise AssertionError(
                    f"{route.template}: cannot fill '{parameter}'. Name id parameters "
                    "<model>_id after a tenant-owned model, or teach the walker."
                )
            if under_partner and model in world.foreign_partner_objects:
                own[parameter] = world.own_partner_objects[model]
                foreign[parameter] = world.foreign_partner_objects[model]
                continue
            own[parameter] = world.own_objects[model]
            foreign[parameter] = world.foreign_objects[model]
    cases: list[tuple[dict, dict | None]] = [(foreign, None)]
    # The actor's own tenant/partner with a foreign object id in every other parameter.
    scope_keys = {"tenant_id", "partner_id"} & set(route.parameters)
    object_keys = set(route.parameters) - scope_keys - TOKEN_PARAMETERS
    if scope_keys and object_keys:
        mixed = {**foreign, **{key: own[key] for key in scope_keys}}
        cases.append((mixed, own))
    if scope_keys == {"tenant_id", "partner_id"}:
        # The actor's own partner naming a customer it does not collaborate with.
        cases.append(({**foreign, "partner_id": own["partner_id"]}, None))
    return cases


# Seller migration (billing/migration.py): its tenant-owned rows, and the migration itself,
# which belongs to no tenant and is named by operator routes only.
from datetime import date  # noqa: E402

from billing.models import SellerMigration, SellerMigrationItem, TermsAcceptance  # noqa: E402
from tests.factories import SellerEntityFactory  # noqa: E402


def _make_seller_migration(from_seller=None, cohort_start=None) -> SellerMigration:
    return SellerMigration.objects.create(
        from_seller=from_seller or SellerEntityFactory(),
        to_seller=SellerEntityFactory(),
        cohort_start=cohort_start or date(2030, 1, 1),
        created_at=clock.now(),
    )


def _make_seller_migration_item(tenant: Tenant) -> SellerMigrationItem:
    subscription = _subscription_of(tenant)
    migration = _make_seller_migration(
        subscription.seller, subscription.period_end + clock_delta(days=1)
    )
    return SellerMigrationItem.objects.create(
        tenant=tenant, migration=migration, subscription=subscription, currency="EUR"
    )


def _make_terms_acceptance(tenant: Tenant) -> TermsAcceptance:
    seller = SellerEntityFactory()
    return TermsAcceptance.objects.create(
        tenant=tenant,
        seller=seller,
        version=seller.terms_version,
        accepted_by="admin@example.test",
        accepted_at=clock.now(),
    )


TENANT_OBJECT_FACTORIES[SellerMigrationItem] = _make_seller_migration_item
TENANT_OBJECT_FACTORIES[TermsAcceptance] = _make_terms_acceptance
SHARED_OBJECT_FACTORIES = {SellerMigration: _make_seller_migration}


# Partner-owned billing rows (billing/scoping.py): a partner's consolidated invoice (its
# line names a customer tenant) and its billing contacts. They still have the tenant keys
# (null here), so the tenant factories above cover the models; these give the walker the
# partner's own rows for the routes under /p/<partner_id>/ and /api/v1/partners/<partner_id>/.


def _make_partner_invoice(partner):
    from billing.models import Invoice, InvoiceLine
    from severa import line_texts

    invoice = invoice_create(Tenant.objects.create(name="Customer Oy", country="FI"))
    customer = invoice.tenant
    consolidated = Invoice.objects.get(pk=invoice.pk)
    consolidated.pk, consolidated.tenant, consolidated.partner = None, None, partner
    consolidated.number += 10**6
    consolidated._state.adding = True
    consolidated.save()
    line = invoice.lines.get()
    InvoiceLine.objects.create(
        tenant=customer,
        partner=partner,
        invoice=consolidated,
        position=1,
        text_kind=line.text_kind,
        params=line.params,
        description=line_texts.line_text_of(
            line, language=line_texts.document_language(partner)
        ),
        period_start=line.period_start,
        period_end=line.period_end,
        quantity=line.quantity,
        unit_price=line.unit_price,
        vat_category=line.vat_category,
        vat_rate=line.vat_rate,
        net=line.net,
    )
    return consolidated


def _make_partner_contact(partner):
    return BillingContact.objects.create(
        partner=partner,
        email=f"{secrets.token_hex(4)}@partner.test",
        name="AP",
        created_at=clock.now(),
    )


PARTNER_OBJECT_FACTORIES = {Invoice: _make_partner_invoice, BillingContact: _make_partner_contact}


# Integrations (integrations/models.py): connections, their entity map, runs and transfers.
def _register_integration_factories() -> None:
    from integrations.models import (
        Agent,
        AgentJob,
        BlockedEntity,
        Connection,
        EntityMap,
        SyncRun,
        Transfer,
    )
    from tests.factories import (
        agent_create,
        agent_job_create,
        blocked_entity_create,
        connection_create_for,
        entity_map_create,
        sync_run_create,
        transfer_create,
    )

    TENANT_OBJECT_FACTORIES[Connection] = connection_create_for
    TENANT_OBJECT_FACTORIES[EntityMap] = entity_map_create
    TENANT_OBJECT_FACTORIES[BlockedEntity] = blocked_entity_create
    TENANT_OBJECT_FACTORIES[SyncRun] = sync_run_create
    TENANT_OBJECT_FACTORIES[Transfer] = transfer_create
    TENANT_OBJECT_FACTORIES[Agent] = agent_create
    TENANT_OBJECT_FACTORIES[AgentJob] = agent_job_create


_register_integration_factories()


# Partners (partners/models.py): activations, customers' invitations and support requests
# belong to a tenant; engagements belong to a partner (no route names one by id: the API
# lists them under partner_id).
from accounts.models import Partner  # noqa: E402
from partners.models import (  # noqa: E402
    Engagement,
    PartnerActivation,
    PartnerInvitation,
    SupportRequest,
)


def _make_engagement_for(partner: Partner, tenant: Tenant) -> Engagement:
    return Engagement.objects.create(
        partner=partner, name="Bookkeeping", customer=tenant, created_at=clock.now()
    )


def _make_partner_activation(tenant: Tenant) -> PartnerActivation:
    # Another partner's: no actor of the world may see it.
    partner = PartnerFactory()
    now = clock.now()
    return PartnerActivation.objects.create(
        tenant=tenant,
        partner=partner,
        collaboration=CollaborationFactory(tenant=tenant, partner=partner, status="pending"),
        engagement=_make_engagement_for(partner, tenant),
        scenario="existing_subscription",
        token_hash=secrets.token_hex(32),
        expires_at=now + clock_delta(days=14),
        created_at=now,
    )


def _make_partner_invitation(tenant: Tenant) -> PartnerInvitation:
    now = clock.now()
    return PartnerInvitation.objects.create(
        tenant=tenant,
        partner=PartnerFactory(),
        email=f"{secrets.token_hex(4)}@example.test",
        token_hash=secrets.token_hex(32),
        invited_by=UserFactory(),
        created_at=now,
        expires_at=now + clock_delta(days=7),
    )


TENANT_OBJECT_FACTORIES[PartnerActivation] = _make_partner_activation
TENANT_OBJECT_FACTORIES[PartnerInvitation] = _make_partner_invitation
TENANT_OBJECT_FACTORIES[SupportRequest] = lambda tenant: SupportRequest.objects.create(
    tenant=tenant, requested_edition="professional", created_at=clock.now()
)
