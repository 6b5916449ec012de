"""Every text a user reads goes through the catalogue: with the pseudo language ``xx``
(tests/pseudo_locale.py), every page a tenant admin, a billing user, a member, a partner user
and an operator can open (and what sending its forms empty leads to), every e-mail and every
document's text shows no English word outside the catalogue's texts, the data's names and
numbers. A failure names the page and the phrase."""

import datetime
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from accounts.models import Invitation, OutboxMessage, Partner, Role, Tenant, User
from accounts.secrets import token_hash
from billing.models import InvoiceLink, SellerEntity, TermsVersion
from integrations.engine import blocked_reason
from integrations.fortnox.facts import FORTNOX_FACTS
from integrations.models import SyncRun, Transfer
from partners.models import PartnerActivation, PartnerInvitation
from partners.services import partner_create
from severa import clock
from subscriptions.models import Quote, Subscription
from subscriptions.services import Desired, quote_confirm, quote_create
from tests import pseudo_locale
from tests.factories import (
    BillingContactFactory,
    BillingDetailsFactory,
    CollaborationFactory,
    MembershipFactory,
    OperatorFactory,
    PartnerFactory,
    PartnerMembershipFactory,
    blocked_entity_create,
    connection_create_for,
    invoice_issue_through_services,
)
from tests.isolation import (
    PARTNER_OBJECT_FACTORIES,
    SHARED_OBJECT_FACTORIES,
    TENANT_OBJECT_FACTORIES,
    tenant_owned_models,
)

pytestmark = pytest.mark.django_db

# Routes no role reaches with a GET as a page, and why. Every other route must render for
# at least one of the roles, so a new page is walked without editing this file.
SKIPPED_ROUTES = {
    "tenant_integration_segments": "reads Visma.net's segments from an authorised connection; "
    "walked in four languages against the fake in tests/integrations/vismanet/",
    "logout": "signs out (POST); no page",
    "set_language": "changes the language (POST); no page",
    "healthz": "a probe for the load balancer, not a page",
    "login": "seen signed out; walked in test_the_sign_in_pages",
    "login_otp": "seen half signed in; walked in test_the_sign_in_pages",
    "password_reset": "seen signed out; walked in test_the_sign_in_pages",
    "password_reset_done": "seen signed out; walked in test_the_sign_in_pages",
    "password_reset_complete": "seen signed out; walked in test_the_sign_in_pages",
    "password_reset_confirm": "needs the e-mailed token; walked in test_the_sign_in_pages",
    "two_factor_setup": "shown to a user without an authenticator; test_the_sign_in_pages",
    "tenant_invoice_finvoice": "Finvoice XML for the buyer's accounting system, not a page",
    "tenant_invoice_ubl": "UBL XML for the buyer's accounting system, not a page",
    "integrations_oauth_callback": "the accounting system's redirect back; needs its state",
    "records_customer_invoice_attachment": "the file a user attached, as it was uploaded",
    "partner_invitation_open": "opens the partner's invitation page (partner_invitation)",
}
ROLES = ("admin", "billing", "member", "partner", "operator", "visitor")
# The roles that send forms and actions (a billing user's and a member's are a subset).
POSTING_ROLES = ("admin", "partner", "operator")
TOKEN = "pseudo-token"


@pytest.fixture
def pseudo(monkeypatch, settings, tmp_path):
    pseudo_locale.install(monkeypatch, settings)
    # E-invoices the world sends go to a folder of their own (no file of another test's).
    settings.EINVOICE_DROP_DIR = str(tmp_path)
    yield
    pseudo_locale.uninstall()


@dataclass
class World:
    tenant: Tenant
    partner: Partner
    actors: dict[str, object]
    objects: dict[type[models.Model], int] = field(default_factory=dict)
    partner_objects: dict[type[models.Model], int] = field(default_factory=dict)
    # Connections to the other accounting systems: their pages differ (set-up notes, the
    # agent, the segments), so every page of a connection is walked for each.
    connections: list[int] = field(default_factory=list)


def _build_world(capture_on_commit) -> World:
    """A company in the pseudo language with a subscription, an upgrade's order, issued
    invoices and a credit note made by the services (and what they do after their commit:
    deliveries, e-mails), and one row of every other kind."""
    from billing.issuing import credit_note_issue
    from billing.models import Invoice

    with scopes_disabled():
        tenant = Tenant.objects.create(
            name="Aalto Consulting Oy", country="FI", language=pseudo_locale.PSEUDO
        )
        BillingDetailsFactory(tenant=tenant)
        BillingContactFactory(tenant=tenant)
        with capture_on_commit(execute=True):
            invoice = invoice_issue_through_services(tenant, seats=2, upgrade_to_seats=4)
        with capture_on_commit(execute=True):
            credit_note_issue(invoice=invoice, lines=None, actor=None, reason="")
        actors = {
            role: MembershipFactory(tenant=tenant, role=role).user
            for role in (Role.ADMIN, Role.BILLING, Role.MEMBER)
        }
        partner = PartnerFactory(name="Tilitoimisto Numero Oy")
        actors["partner"] = PartnerMembershipFactory(partner=partner).user
        CollaborationFactory(partner=partner, tenant=tenant)
        actors["operator"] = OperatorFactory()
        world = World(tenant, partner, actors)
        # A decrease for the next period (a scheduled change), then an Agreement not yet
        # confirmed.
        subscription = Subscription.objects.get(tenant=tenant)
        with clock.frozen(datetime.date(2024, 8, 20)), capture_on_commit(execute=True):
            if not subscription.scheduled_changes.exists():
                decrease = Desired(seats=subscription.seats - 1)
                quote_confirm(
                    quote=quote_create(subscription=subscription, desired=decrease, actor=None),
                    actor=actors["admin"],
                )
            agreement = quote_create(
                subscription=subscription, desired=Desired(seats=6), actor=None
            )
        # A partner organisation joins: its first user's welcome (partners have no
        # language of their own: the site's).
        with capture_on_commit(execute=True):
            partner_create(
                name="Numerot Oy",
                country="FI",
                business_id="0112038-9",
                user_name="nelli.numero",
                user_email="nelli@numerot.example",
                actor=actors["operator"],
            )
        # An accounting system's module not licensed: the reason as a run writes it, in the
        # company's language (integrations/runs.py).
        with translation.override(tenant.language):
            blocked_entity_create(
                tenant,
                entity_type="customer",
                reason=blocked_reason(facts=FORTNOX_FACTS, entity_type="customer"),
            )
        # An invoice's e-mail the mail server refused (the operators' outbox lists it).
        OutboxMessage.objects.filter(tenant=tenant).update(status="failed")
        for model in tenant_owned_models():
            existing = model._default_manager.filter(tenant=tenant).order_by("pk").first()
            if model is Invoice:
                existing = invoice
            world.objects[model] = (existing or TENANT_OBJECT_FACTORIES[model](tenant)).pk
        # The run walked is the one with a transfer.
        world.objects[SyncRun] = Transfer.objects.get(pk=world.objects[Transfer]).run_id
        for model, make in PARTNER_OBJECT_FACTORIES.items():
            world.partner_objects[model] = make(partner).pk
        for model, make in SHARED_OBJECT_FACTORIES.items():
            world.objects[model] = make().pk
        from accounts.models import ApiToken
        from accounts.services import api_token_create

        token, _key = api_token_create(user=actors["admin"])
        world.objects[ApiToken] = token.pk
        world.objects[SellerEntity] = invoice.seller_id
        TermsVersion.objects.get_or_create(
            seller=invoice.seller,
            version=invoice.seller.terms_version,
            defaults={
                "title": "Yleiset sopimusehdot",
                "text": "Palvelua koskevat ehdot.",
                "published_on": datetime.date(2024, 1, 1),
            },
        )
        world.objects[Quote] = agreement.pk
        # The partner's invitation of a company to become its customer.
        world.partner_objects[PartnerInvitation] = TENANT_OBJECT_FACTORIES[PartnerInvitation](
            tenant
        ).pk
        PartnerInvitation.objects.filter(pk=world.partner_objects[PartnerInvitation]).update(
            partner=partner
        )
        # People's names that are no English words (random ones may be: "Price", "Page").
        User.objects.update(first_name="Aino", last_name="Aaltonen")
        # The e-mailed links' rows answer to one known token.
        for model in (Invitation, InvoiceLink, PartnerActivation, PartnerInvitation):
            model._base_manager.filter(pk=world.objects[model]).update(token_hash=token_hash(TOKEN))
        # Connections to the other systems, made last: the rows above use the first one.
        world.connections = [
            connection_create_for(tenant, system=system).pk
            for system in ("visma_eekonomi", "visma_global", "visma_net")
        ]
    return world


# Texts the product writes into rows (a line's description, a run's reason, a message's
# subject): what a reader sees of them must be in their language, so they are not names.
# (Records' descriptions and notes are what the company's users typed: names.)
WRITTEN_BY_THE_PRODUCT = {
    ("billing", "invoiceline", "description"),
    ("billing", "outboxmessage", "subject"),
    ("billing", "outboxmessage", "body"),
    ("billing", "sellermigrationitem", "note"),
    ("subscriptions", "orderline", "description"),
    ("subscriptions", "scheduledchange", "description"),
    ("integrations", "connection", "status_reason"),
    ("integrations", "syncrun", "error"),
    ("integrations", "transfer", "reason"),
    ("integrations", "blockedentity", "reason"),
    ("accounts", "auditevent", "action"),
}
# A value of lower-case letters alone is a code (an edition's, a status's), which a page
# must not show as it is.
_CODE = re.compile(r"[a-z][a-z_-]*")


def _data_names() -> set[str]:
    """The data's own texts (names, addresses, numbers, the fixture's texts), except choices,
    whose codes a page must never show as they are, and texts the product writes."""
    names: set[str] = set()
    with scopes_disabled():
        for model in apps.get_models():
            text_fields = [
                f.name
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField | models.TextField)
                and not f.choices
                and (model._meta.app_label, model._meta.model_name, f.name)
                not in WRITTEN_BY_THE_PRODUCT
            ]
            if not text_fields:
                continue
            for row in model._base_manager.values_list(*text_fields):
                names.update(value for value in row if value and not _CODE.fullmatch(value))
    from django.utils.translation import get_language_info

    from severa.identifiers.einvoice import einvoice_operators

    # The language menu names each language in itself.
    for code, _name in django_settings.LANGUAGES:
        names.add(get_language_info(code)["name_local"].capitalize())
    # Finnish eInvoice operators' names, as the operators' register gives them.
    names.update(einvoice_operators().values())
    return names


@dataclass(frozen=True)
class Route:
    template: str
    name: str
    parameters: tuple[str, ...]


def _web_routes() -> list[Route]:
    """Every URL pattern but the API's (JSON for programs; its messages are in the API's
    tests) and the Django admin's (Django's own pages, translated by Django)."""
    routes: list[Route] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin" or str(entry.pattern).startswith("api/"):
                    continue
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                template = "/" + prefix + str(entry.pattern)
                if template.startswith("/api/") or template.startswith("/static/"):
                    continue
                converters = {
                    **(RoutePattern(prefix).converters if "<" in prefix else {}),
                    **entry.pattern.converters,
                }
                routes.append(Route(template, entry.name or template, tuple(converters)))

    walk(get_resolver().url_patterns, "")
    return routes


def _model_for(parameter: str) -> type[models.Model] | None:
    if parameter == "seller_id":  # a seller's public terms
        return SellerEntity
    wanted = parameter.removesuffix("_id").replace("_", "")
    return next((m for m in apps.get_models() if m._meta.model_name == wanted), None)


def _paths(route: Route, world: World) -> list[str] | None:
    """The paths a route is walked at: with the world's objects, and for a connection's
    route once more for each other system's connection."""
    path = _path(route, world)
    if path is None:
        return None
    if "connection_id" not in route.parameters:
        return [path]
    return [path, *(_path(route, world, connection_id=pk) for pk in world.connections)]


def _path(route: Route, world: World, *, connection_id: int | None = None) -> str | None:
    path = route.template
    under_partner = "partner_id" in route.parameters
    for parameter in route.parameters:
        if parameter == "tenant_id":
            value = world.tenant.pk
        elif parameter == "connection_id" and connection_id is not None:
            value = connection_id
        elif parameter == "partner_id":
            value = world.partner.pk
        elif parameter == "token":
            value = TOKEN
        else:
            model = _model_for(parameter)
            if model is None:
                return None
            if under_partner and model in world.partner_objects:
                value = world.partner_objects[model]
            elif model in world.objects:
                value = world.objects[model]
            else:
                return None
        for converter in ("int:", "str:", ""):
            path = path.replace(f"<{converter}token>", TOKEN)
            path = path.replace(f"<{converter}{parameter}>", str(value))
    return path


def _client(user) -> Client:
    device = TOTPDevice.objects.create(user=user, name="pseudo", confirmed=True)
    client = Client(HTTP_ACCEPT_LANGUAGE=pseudo_locale.PSEUDO)
    client.force_login(user, backend="accounts.request_cache.CachedModelBackend")
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = pseudo_locale.PSEUDO
    return client


def _texts_of(response) -> list[str]:
    media_type = response.get("Content-Type", "").split(";")[0]
    if media_type == "application/pdf":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(response.content))
        # A translated text may run over lines: one text a page.
        return [" ".join(page.extract_text().split()) for page in reader.pages]
    if media_type == "text/html":
        return pseudo_locale.visible_text(response.content.decode())
    return []


def _report(found: dict[str, list[str]]) -> list[str]:
    return [
        f"{where}: {phrase}"
        for where, phrases in sorted(found.items())
        for phrase in dict.fromkeys(phrases)
    ]


def test_every_page_of_every_role_speaks_the_readers_language(
    pseudo, django_capture_on_commit_callbacks
):
    world = _build_world(django_capture_on_commit_callbacks)
    names = pseudo_locale.names_pattern(_data_names())
    clients = {role: _client(user) for role, user in world.actors.items()}
    clients["visitor"] = Client(HTTP_ACCEPT_LANGUAGE=pseudo_locale.PSEUDO)
    found: dict[str, list[str]] = {}
    rendered: set[str] = set()
    statuses: dict[str, list[str]] = {}
    unfilled = []
    for route in _web_routes():
        if route.name in SKIPPED_ROUTES:
            continue
        paths = _paths(route, world)
        if paths is None:
            unfilled.append(route.template)
            continue
        for path in paths:
            for role in ROLES:
                response = clients[role].get(path)
                statuses.setdefault(route.name, []).append(
                    f"{role}:{response.status_code}:{response.get('Location', '')}"
                )
                if response.status_code != 200:
                    continue
                rendered.add(route.name)
                if response.get("Content-Type", "").startswith("text/html"):
                    # The page is in the pseudo language at all.
                    assert pseudo_locale.OPEN in response.content.decode(), f"{role} {path}"
                phrases = pseudo_locale.english_phrases(_texts_of(response), names=names)
                if phrases:
                    found.setdefault(f"{role} {path}", []).extend(phrases)
    # Then every form and action sent empty, as each role that may: the refusals, form errors
    # and messages on the page it leads to. (After the pages: an action may end something.)
    for route in _web_routes():
        paths = _paths(route, world)
        if route.name in SKIPPED_ROUTES or paths is None:
            continue
        for path in paths:
            for role in POSTING_ROLES:
                response = clients[role].post(path, follow=True)
                if response.status_code != 200:
                    continue
                phrases = pseudo_locale.english_phrases(_texts_of(response), names=names)
                if phrases:
                    found.setdefault(f"{role} POST {path}", []).extend(phrases)
    # Actions (POST only) answer 405 to a GET (roles they are not for may be refused
    # before): they are not pages.
    not_walked = sorted(
        route.name
        for route in _web_routes()
        if route.name not in rendered
        and route.name not in SKIPPED_ROUTES
        and not any(status.split(":")[1] == "405" for status in statuses.get(route.name, []))
    )
    assert unfilled == []
    report = _report(found)
    assert not report, "English outside the catalogue:\n" + "\n".join(report)
    assert not not_walked, "Not walked: " + "\n".join(f"{n} {statuses.get(n)}" for n in not_walked)


def test_the_checker_finds_english_outside_the_catalogue(pseudo):
    from django.utils.translation import gettext, ngettext, override, pgettext

    with override(pseudo_locale.PSEUDO):
        assert gettext("Users") == "⟦Users⟧"
        assert ngettext("%d seat", "%d seats", 2) == "⟦%d seats⟧"
        assert pgettext("menu", "Billing") == "⟦Billing⟧"
    names = pseudo_locale.names_pattern({"Aalto Consulting Oy"})
    page = (
        '<html><script>var x = "Hidden";</script><h1>⟦Users⟧</h1>'
        '<input type="submit" value="Save"><p>Aalto Consulting Oy 12,50 € EUR</p>'
        '<span title="⟦Remove⟧">Invoice 2025-7</span></html>'
    )
    texts = pseudo_locale.visible_text(page)
    assert pseudo_locale.english_phrases(texts, names=names) == ["Save", "Invoice"]


# E-mail templates and a context like their senders give (accounts/mail.py renders them in
# the recipient's language). The flows of the world above send some for real (the invoice
# links, the order confirmation); every template is rendered here too, so a new one fails
# until it is added.
def _mail_contexts(world: World) -> dict[str, dict]:
    from accounts.locale_format import country_time_zone  # noqa: F401 (the senders' zone)
    from billing.models import Invoice
    from subscriptions.models import OrderConfirmation

    tenant, partner = world.tenant.name, world.partner.name
    with scopes_disabled():
        invoice = Invoice.objects.get(pk=world.objects[Invoice])
        order = OrderConfirmation.objects.filter(tenant=world.tenant).order_by("pk").first()
    expires = "2024-09-01T10:00:00+00:00"
    integration = {"tenant": tenant, "system": "Fortnox", "path": "/t/1/integrations/1/"}
    return {
        "api_token_notice": {"user": "aino", "prefix": "sev_ab12", "created_at": expires},
        "integration_blocked": {
            **integration,
            "reason": "",
            "remote_message": "Det finns ingen aktiv licens för önskat scope (customer).",
        },
        "integration_agent_offline": {**integration, "last_seen": expires},
        "integration_credentials_notice": {**integration, "action": "connected", "user": "aino"},
        "integration_failures": {
            **integration,
            "run_id": 7,
            "status": "",
            "error": "",
            "failed_count": 2,
            "failures": [{"entity_type": "", "label": "1001 Acme Oy", "reason": ""}],
        },
        "invitation": {
            "tenant": tenant,
            "invited_by": "Aino Aalto",
            "path": "/accounts/invitations/x/",
            "expires_at": expires,
        },
        "invoice_link": {
            "invoice": invoice,
            "is_credit_note": False,
            "tenant": world.tenant,
            "seller_name": "Severa Finland Oy",
            "reference": "RF18 1000 0013",
            "link_url": "https://severa.example/links/invoices/x/",
            "expires_at": expires,
            "to_admins": True,
        },
        "licence_shortage_notice": {
            "tenant": tenant,
            "user": "Mikko Mäki",
            "email": "mikko@example.test",
            "seats": 4,
            "upgrades_path": "/t/1/upgrades/",
            "users_path": "/t/1/users/",
        },
        "new_user_notice": {
            "tenant": tenant,
            "user": "Mikko Mäki",
            "email": "mikko@example.test",
            "role": str(Role.MEMBER.label),
        },
        "order_confirmation": {
            "order": order,
            "tenant": world.tenant,
            "order_url": "https://severa.example/t/1/upgrades/orders/1/",
            "invoiced_from": "2024-09-01",
            "to_admins": True,
        },
        "partner_activation": {
            "tenant": tenant,
            "partner": partner,
            "scenario": "new_customer",
            "edition": "Business",
            "seats": 5,
            "agreement_months": 12,
            "admin_name": "Aino Aalto",
            "password_path": "/accounts/reset/x/y/",
            "path": "/partners/activations/x/",
            "expires_at": expires,
        },
        "partner_activation_approved": {"tenant": tenant, "partner": partner},
        "partner_activation_declined": {"tenant": tenant, "partner": partner},
        "partner_invitation": {
            "tenant": tenant,
            "partner": partner,
            "invited_by": "Aino Aalto",
            "path": "/partners/invitations/x/",
            "expires_at": expires,
        },
        "partner_invitation_accepted": {"tenant": tenant, "partner": partner},
        "partner_welcome": {"partner": partner, "username": "paula", "path": "/p/1/"},
        "password_reset": {
            "domain": "severa.example",
            "protocol": "https",
            "uid": "MQ",
            "token": "abc-123",
            "user": world.actors["admin"],
        },
        "role_changed_notice": {"tenant": tenant, "user": "aino", "role": str(Role.ADMIN.label)},
        "seller_migration_notice": _seller_migration_context(world),
    }


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


def _seller_migration_context(world: World) -> dict:
    from billing.migration import _notice_context
    from billing.models import SellerMigration

    with scopes_disabled():
        migration = SellerMigration.objects.get(pk=world.objects[SellerMigration])
        return _notice_context(
            migration=migration, tenant=world.tenant, currency="EUR", to_admins=True
        )


def test_every_e_mail_speaks_the_readers_language(pseudo, django_capture_on_commit_callbacks):
    from django.core import mail

    from accounts.mail import mail_render

    world = _build_world(django_capture_on_commit_callbacks)
    names = pseudo_locale.names_pattern(_data_names())
    found: dict[str, list[str]] = {}
    for message in mail.outbox:
        texts = [message.subject, *message.body.split("\n\n")]
        phrases = pseudo_locale.english_phrases(texts, names=names)
        if phrases:
            found.setdefault(f"sent e-mail {message.subject!r}", []).extend(phrases)
    templates = sorted(
        path.name.removesuffix("_subject.txt")
        for path in (Path(django_settings.BASE_DIR) / "templates" / "email").glob("*_subject.txt")
    )
    contexts = _mail_contexts(world)
    assert sorted(contexts) == templates
    for template, context in contexts.items():
        subject, body = mail_render(
            template=template, context=context, language=pseudo_locale.PSEUDO
        )
        # The context's own texts (names, a remote system's message) are data too.
        given = pseudo_locale.names_pattern({*_data_names(), *_strings(context)})
        phrases = pseudo_locale.english_phrases([subject, *body.split("\n\n")], names=given)
        if phrases:
            found.setdefault(f"e-mail {template}", []).extend(phrases)
    report = _report(found)
    sent = {message.subject for message in mail.outbox}
    assert any("Numerot Oy" in subject for subject in sent), sent
    assert not report, "English outside the catalogue:\n" + "\n".join(report)


def test_the_sign_in_pages(pseudo, client, django_capture_on_commit_callbacks):
    """Signed out, half signed in and enrolling: the pages the walk above cannot reach with
    a signed-in user, with their refusals."""
    import re as regex

    from django.core import mail

    from tests.factories import PASSWORD

    with scopes_disabled():
        tenant = Tenant.objects.create(name="Aalto Consulting Oy", language=pseudo_locale.PSEUDO)
        admin = MembershipFactory(tenant=tenant, role=Role.ADMIN).user
        member = MembershipFactory(tenant=tenant, role=Role.MEMBER).user
        User.objects.update(first_name="Aino", last_name="Aaltonen")
    names = pseudo_locale.names_pattern(_data_names())
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = pseudo_locale.PSEUDO
    found: dict[str, list[str]] = {}

    def check(response, where: str) -> None:
        assert response.status_code == 200, (where, response.status_code)
        assert pseudo_locale.OPEN in response.content.decode(), where
        phrases = pseudo_locale.english_phrases(_texts_of(response), names=names)
        if phrases:
            found.setdefault(where, []).extend(phrases)

    check(client.get("/accounts/login/"), "sign-in")
    check(
        client.post("/accounts/login/", {"username": member.username, "password": "wrong"}),
        "sign-in refused",
    )
    check(client.get("/accounts/help/"), "help")
    check(client.get("/accounts/password-reset/"), "password reset")
    with django_capture_on_commit_callbacks(execute=True):  # the outbox relay sends it
        check(
            client.post("/accounts/password-reset/", {"email": member.email}, follow=True),
            "password reset sent",
        )
    link = regex.search(r"http://[^/]+(/accounts/reset/\S+)", mail.outbox[-1].body).group(1)
    form = client.get(link, follow=True)
    check(form, "new password")
    check(
        client.post(
            form.redirect_chain[-1][0], {"new_password1": "short", "new_password2": "other"}
        ),
        "new password refused",
    )
    check(client.get("/accounts/reset/done/"), "password reset complete")
    # An administrator without an authenticator enrols; then with one, gives the code.
    client.post("/accounts/login/", {"username": admin.username, "password": PASSWORD})
    check(client.get("/accounts/2fa/setup/"), "two-factor set-up")
    check(client.post("/accounts/2fa/setup/", {"code": "000000"}), "two-factor set-up refused")
    client.logout()
    TOTPDevice.objects.filter(user=admin).update(confirmed=True)
    client.post("/accounts/login/", {"username": admin.username, "password": PASSWORD})
    check(client.get("/accounts/login/code/"), "one-time code")
    check(client.post("/accounts/login/code/", {"code": "000000"}), "one-time code refused")
    report = _report(found)
    assert not report, "English outside the catalogue:\n" + "\n".join(report)
