"""The sync engine with the in-memory system: pairing and matching, master rules both ways,
look-up before create after ambiguous failures, incremental runs with no writes when nothing
changed, and failures logged with their reason."""

import datetime

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django_scopes import scope, scopes_disabled

from accounts.models import OutboxMessage, Tenant
from integrations.models import (
    Connection,
    EntityMap,
    Master,
    SyncRun,
    SyncRunStatus,
    SyncTrigger,
    Transfer,
    TransferDirection,
)
from integrations.runs import (
    RunInProgress,
    sync_run_execute,
    sync_run_failures_mail,
    sync_run_start,
)
from severa import clock
from tests.integrations.memory import TO_REMOTE_ONLY

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 7, 0, tzinfo=datetime.UTC)


def at(hours: float):
    return clock.frozen(T0 + datetime.timedelta(hours=hours))


def sync(connection: Connection, *, hours: float) -> SyncRun:
    with at(hours), scope(tenant=connection.tenant_id):
        connection.refresh_from_db()
        run = sync_run_start(connection=connection, trigger=SyncTrigger.MANUAL, actor=None)
        return sync_run_execute(run=run)


def outcomes(run: SyncRun) -> list[tuple[str, str, str, str]]:
    with scope(tenant=run.tenant_id):
        return [
            (t.entity_type, t.direction, t.label, t.outcome)
            for t in Transfer.objects.filter(run=run).order_by("id")
        ]


def maps(connection: Connection) -> set[tuple[str, int, str | None]]:
    with scope(tenant=connection.tenant_id):
        return set(
            EntityMap.objects.filter(connection=connection).values_list(
                "entity_type", "local_id", "remote_id"
            )
        )


@pytest.fixture
def connection(active_connection):
    with scope(tenant=active_connection.tenant_id):
        Connection.objects.filter(pk=active_connection.pk).update(transfer_all_customers=True)
        active_connection.refresh_from_db()
    return active_connection


def test_new_records_flow_both_ways_and_a_second_run_writes_nothing(connection, world):
    with at(0):
        acme = world.local.add("customer", "1001", "Acme Oy", vat="FI15728600")
        world.system.add("customer", "2001", "Borealis AB", vat="SE556000000001")
        consulting = world.local.add("product", "100", "Consulting", unit="h")

    first = sync(connection, hours=1)

    assert first.status == SyncRunStatus.SUCCEEDED
    assert outcomes(first) == [
        ("customer", TransferDirection.TO_REMOTE, "1001 Acme Oy", "created"),
        ("customer", TransferDirection.TO_LOCAL, "2001 Borealis AB", "created"),
        ("product", TransferDirection.TO_REMOTE, "100 Consulting", "created"),
    ]
    assert world.system.requests["create"] == 2
    assert world.local.writes["create"] == 1
    borealis = next(i for i, r in world.local.table("customer").items() if r["key"] == "2001")
    assert world.local.table("customer")[borealis]["data"]["vat"] == "SE556000000001"
    assert {(e, local) for e, local, _remote in maps(connection)} == {
        ("customer", acme),
        ("customer", borealis),
        ("product", consulting),
    }
    assert first.counts["created"] == 3
    assert first.progress_done == first.progress_total == 5  # 2 local + 3 remote read

    writes, local_writes = world.system.writes, sum(world.local.writes.values())
    second = sync(connection, hours=2)

    assert second.status == SyncRunStatus.SUCCEEDED
    assert outcomes(second) == []
    assert world.system.writes == writes
    assert sum(world.local.writes.values()) == local_writes
    # Read back: what the first run wrote (Borealis here, Acme and Consulting there); what
    # was last changed before the first run is not read at all.
    assert second.counts["unchanged"] == 3
    with scope(tenant=connection.tenant_id):
        connection.refresh_from_db()
    assert connection.last_synced_at == T0 + datetime.timedelta(hours=2)


def test_existing_records_are_matched_by_number_and_name(connection, world):
    with at(0):
        world.local.add("product", "100", "Consulting")
        world.system.add("product", "100", "consulting ")  # same name, other spacing/case
        world.local.add("product", "200", "Travel")
        world.system.add("product", "200", "Travel costs")  # same code, another name
        world.system.add("product", "300", "Licences")
        world.local.add("product", "300", "Licences")

    run = sync(connection, hours=1)

    assert outcomes(run) == [
        ("product", TransferDirection.TO_REMOTE, "100 Consulting", "matched"),
        ("product", TransferDirection.TO_REMOTE, "200 Travel", "failed"),
        ("product", TransferDirection.TO_REMOTE, "300 Licences", "matched"),
        ("product", TransferDirection.TO_LOCAL, "200 Travel costs", "failed"),
    ]
    with scope(tenant=connection.tenant_id):
        reasons = list(
            Transfer.objects.filter(run=run, outcome="failed").values_list("reason", flat=True)
        )
    assert reasons[0].startswith("The number/code 200 is used by “Travel costs”")
    assert reasons[1].startswith("The number/code 200 is used by “Travel” in Severa")
    assert world.system.requests["create"] == 0
    assert world.local.writes["create"] == 0
    assert run.status == SyncRunStatus.PARTIAL


def test_customers_match_by_number_alone_when_the_adapter_says_so(connection, world):
    world.adapter_options["customer"] = {"match_key_only": True}
    with at(0):
        world.local.add("customer", "1001", "Acme")
        world.system.add("customer", "1001", "Acme Oy Ltd")

    run = sync(connection, hours=1)

    assert outcomes(run) == [
        ("customer", TransferDirection.TO_REMOTE, "1001 Acme", "matched"),
    ]
    assert run.counts["unchanged"] == 1  # the remote side of the same pair


def test_updates_flow_only_from_severa_when_severa_is_master(connection, world):
    with at(0):
        acme = world.local.add("customer", "1001", "Acme Oy")
        remote_borealis = world.system.add("customer", "2001", "Borealis AB")
    sync(connection, hours=1)
    remote_acme = world.system.by_key("customer", "1001")[0]
    with at(1.5):
        world.local.change("customer", acme, name="Acme Group Oy")
        world.system.change("customer", remote_borealis, name="Borealis Group AB")

    run = sync(connection, hours=2)

    assert outcomes(run) == [
        ("customer", TransferDirection.TO_REMOTE, "1001 Acme Group Oy", "updated"),
        ("customer", TransferDirection.TO_LOCAL, "2001 Borealis Group AB", "skipped"),
    ]
    assert world.system.table("customer")[remote_acme]["name"] == "Acme Group Oy"
    borealis = next(r for r in world.local.table("customer").values() if r["key"] == "2001")
    assert borealis["name"] == "Borealis AB"
    assert world.local.writes["update"] == 0
    with scope(tenant=connection.tenant_id):
        skipped = Transfer.objects.get(run=run, outcome="skipped")
    assert skipped.reason.startswith("Severa is master for updates of customer:")


def test_a_run_writes_its_reasons_in_the_companys_language(connection, world, tenant):
    with scopes_disabled():
        Tenant.objects.filter(pk=tenant.pk).update(language="fi")
    with at(0):
        world.system.add("customer", "2001", "Borealis AB")
    sync(connection, hours=1)
    remote = world.system.by_key("customer", "2001")[0]
    with at(1.5):
        world.system.change("customer", remote, name="Borealis Group AB")

    run = sync(connection, hours=2)

    with scope(tenant=connection.tenant_id):
        skipped = Transfer.objects.get(run=run, outcome="skipped")
    assert skipped.reason.startswith("Severa on päätietolähde, kun ")


def test_updates_flow_only_from_the_accounting_system_when_it_is_master(connection, world):
    with scope(tenant=connection.tenant_id):
        Connection.objects.filter(pk=connection.pk).update(products_master=Master.REMOTE)
    with at(0):
        local_id = world.local.add("product", "100", "Consulting", price="90.00")
        remote_id = world.system.add("product", "200", "Travel", price="0.45")
    sync(connection, hours=1)
    local_travel = next(i for i, r in world.local.table("product").items() if r["key"] == "200")
    remote_consulting = world.system.by_key("product", "100")[0]
    with at(1.5):
        world.local.change("product", local_id, price="95.00")
        world.system.change("product", remote_id, price="0.50")
        new_local = world.local.add("product", "300", "Licences")
    writes_before = world.system.requests["update"]

    run = sync(connection, hours=2)

    assert outcomes(run) == [
        ("product", TransferDirection.TO_REMOTE, "100 Consulting", "skipped"),
        # New records flow both ways whoever is master.
        ("product", TransferDirection.TO_REMOTE, "300 Licences", "created"),
        ("product", TransferDirection.TO_LOCAL, "200 Travel", "updated"),
    ]
    assert world.system.requests["update"] == writes_before
    assert world.system.table("product")[remote_consulting]["data"]["price"] == "90.00"
    assert world.local.table("product")[local_travel]["data"]["price"] == "0.50"
    assert world.system.by_key("product", "300")
    assert new_local in {local for _e, local, _r in maps(connection)}
    # The local change that was not sent is not offered again.
    assert outcomes(sync(connection, hours=3)) == []


@pytest.mark.parametrize(
    "ambiguous",
    [
        # Created, but the answer was lost: the look-up finds it, no second create.
        ["lost"],
        # Lost answers on both tries, the record exists after the first: one record.
        ["lost", "lost"],
    ],
)
def test_an_ambiguous_create_is_looked_up_before_creating_again(connection, world, ambiguous):
    with at(0):
        world.local.add("customer", "1001", "Acme Oy")
    world.system.ambiguous_creates = list(ambiguous)

    run = sync(connection, hours=1)

    assert outcomes(run)[0][3] == "created"
    assert world.system.requests["create"] == 1
    assert len(world.system.by_key("customer", "1001")) == 1
    assert run.status == SyncRunStatus.SUCCEEDED


def test_an_unclear_create_stays_unverified_until_the_policy_is_sure_it_is_not_there(
    connection, world
):
    with at(0):
        acme = world.local.add("customer", "1001", "Acme Oy")
    world.system.ambiguous_creates = ["failed"]

    first = sync(connection, hours=1)

    # Not created again in the run: the look-ups right after the write do not count.
    assert outcomes(first) == [
        ("customer", TransferDirection.TO_REMOTE, "1001 Acme Oy", "unverified")
    ]
    assert first.status == SyncRunStatus.PARTIAL
    assert first.counts["unverified"] == 1
    assert world.system.requests["create"] == 1
    with scope(tenant=connection.tenant_id):
        entity_map = EntityMap.objects.get(local_id=acme)
    assert entity_map.remote_id is None
    assert entity_map.unverified_since is not None
    assert entity_map.lookup_attempts == 2
    assert entity_map.lookups_absent == 0

    # One settled "not there" is not enough (the policy asks for two).
    second = sync(connection, hours=2)
    assert [entry[3] for entry in outcomes(second)] == ["unverified"]
    assert world.system.requests["create"] == 1

    third = sync(connection, hours=3)
    assert [entry[3] for entry in outcomes(third)] == ["created"]
    assert world.system.requests["create"] == 2
    assert len(world.system.by_key("customer", "1001")) == 1
    assert third.status == SyncRunStatus.SUCCEEDED


def test_a_late_commit_is_found_by_the_next_run_and_never_created_twice(connection, world):
    with at(0):
        acme = world.local.add("customer", "", "Acme Oy")  # no number: found by reference only
    world.system.ambiguous_creates = ["failed"]

    first = sync(connection, hours=1)

    assert outcomes(first) == [("customer", TransferDirection.TO_REMOTE, "Acme Oy", "unverified")]
    assert maps(connection) == {("customer", acme, None)}  # the intent stays
    assert world.system.table("customer") == {}

    # Between the runs the remote system turns out to have created it after all, with our
    # reference (a late commit): the next run must find it, not create a second one.
    with scope(tenant=connection.tenant_id):
        reference = EntityMap.objects.get(local_id=acme).reference
    with at(1.5):
        remote_id = world.system.add("customer", "5", "Acme Oy")
        world.system.table("customer")[remote_id]["reference"] = reference
    creates = world.system.requests["create"]

    second = sync(connection, hours=2)

    assert outcomes(second)[0][3] == "created"
    assert world.system.requests["create"] == creates
    assert maps(connection) == {("customer", acme, remote_id)}
    assert len(world.system.table("customer")) == 1
    for hours in (3, 4, 5):
        sync(connection, hours=hours)
    assert len(world.system.table("customer")) == 1


@pytest.mark.parametrize(("mode", "updates"), [("lost", 1), ("failed", 2)])
def test_an_update_with_unknown_outcome_is_read_back_before_writing_again(
    connection, world, mode, updates
):
    with at(0):
        acme = world.local.add("customer", "1001", "Acme Oy")
    sync(connection, hours=1)
    with at(1.5):
        world.local.change("customer", acme, name="Acme Group Oy")
    world.system.ambiguous_updates = [mode]

    first = sync(connection, hours=2)

    assert outcomes(first)[0][3] == "unverified"
    assert first.status == SyncRunStatus.PARTIAL

    second = sync(connection, hours=3)

    assert [entry[3] for entry in outcomes(second)] == ["updated"]
    assert world.system.requests["read"] == 1
    assert world.system.requests["update"] == updates
    [remote_id] = world.system.by_key("customer", "1001")
    assert world.system.record("customer", remote_id).name == "Acme Group Oy"
    assert outcomes(sync(connection, hours=4)) == []


def test_a_missing_licence_blocks_one_entity_type_and_the_run_goes_on(
    connection, world, django_capture_on_commit_callbacks
):
    from integrations.models import BlockedEntity

    with at(0):
        world.local.add("customer", "1001", "Acme Oy")
        world.local.add("product", "300", "Consulting")
    world.system.unlicensed = {"customer"}
    mail.outbox = []

    with django_capture_on_commit_callbacks(execute=True):
        first = sync(connection, hours=1)
        second = sync(connection, hours=2)  # still blocked, not tried, not mailed again

    assert [entry[0::3] for entry in outcomes(first)] == [
        ("customer", "blocked"),
        ("product", "created"),
    ]
    assert first.status == SyncRunStatus.PARTIAL
    assert [entry[0::3] for entry in outcomes(second)] == [("customer", "blocked")]
    assert len(mail.outbox) == 1
    assert "not licensed" in mail.outbox[0].body
    finds = world.system.requests["find"]
    with scope(tenant=connection.tenant_id):
        blocked = BlockedEntity.objects.get(connection=connection)
    assert blocked.entity_type == "customer"

    # A day later it is tried again; once licensed, it syncs and is unblocked.
    world.system.unlicensed = set()
    third = sync(connection, hours=26)
    assert [entry[0::3] for entry in outcomes(third)] == [("customer", "created")]
    assert world.system.requests["find"] > finds
    with scope(tenant=connection.tenant_id):
        assert not BlockedEntity.objects.filter(connection=connection).exists()


def test_a_blocked_entity_type_is_tried_at_once_after_authorising_again(connection, world):
    world.local.add("customer", "1001", "Acme Oy")
    world.system.unlicensed = {"customer"}
    sync(connection, hours=1)
    world.system.unlicensed = set()
    with scope(tenant=connection.tenant_id):
        Connection.objects.filter(pk=connection.pk).update(
            authorized_at=T0 + datetime.timedelta(hours=1.5)
        )

    run = sync(connection, hours=2)

    assert [entry[0::3] for entry in outcomes(run)] == [("customer", "created")]


def test_failures_are_logged_with_the_reason_mailed_and_retried_next_run(connection, world):
    with at(0):
        world.local.add("customer", "1001", "Acme Oy")
        world.local.add("customer", "1002", "Bad VAT Oy")
    world.system.refused_keys["1002"] = "Ogiltigt momsregistreringsnummer (invalid VAT number)"

    with pytest.MonkeyPatch.context():
        first = sync(connection, hours=1)

    assert first.status == SyncRunStatus.PARTIAL
    with scope(tenant=connection.tenant_id):
        failed = Transfer.objects.get(run=first, outcome="failed")
        connection.refresh_from_db()
    assert failed.label == "1002 Bad VAT Oy"
    assert failed.reason == "Ogiltigt momsregistreringsnummer (invalid VAT number)"
    # A partly failed run does not move the incremental start: the failed record is read
    # again next time.
    assert connection.last_synced_at is None

    del world.system.refused_keys["1002"]
    second = sync(connection, hours=2)

    assert outcomes(second) == [
        ("customer", TransferDirection.TO_REMOTE, "1002 Bad VAT Oy", "created"),
    ]
    assert second.status == SyncRunStatus.SUCCEEDED


def test_failed_runs_email_the_error_addresses(
    connection, world, django_capture_on_commit_callbacks
):
    with at(0):
        world.local.add("customer", "1002", "Bad VAT Oy")
    world.system.refused_keys["1002"] = "Invalid VAT number"
    mail.outbox = []

    with django_capture_on_commit_callbacks(execute=True):
        run = sync(connection, hours=1)

    assert [message.to for message in mail.outbox] == [["erp@example.test"]]
    body = mail.outbox[0].body
    assert "1002 Bad VAT Oy: Invalid VAT number" in body
    assert f"/integrations/{connection.pk}/runs/{run.pk}/" in body


def test_a_failed_runs_notice_is_written_to_the_outbox_once_in_the_runs_transaction(
    connection, world
):
    with at(0):
        world.local.add("customer", "1002", "Bad VAT Oy")
    world.system.refused_keys["1002"] = "Invalid VAT number"

    run = sync(connection, hours=1)
    with scope(tenant=connection.tenant_id):
        # A second notice about the same run (a task run again) writes nothing.
        assert sync_run_failures_mail(run=run) == ["erp@example.test"]

    with scopes_disabled():
        [message] = OutboxMessage.objects.filter(kind="integration_failures")
    assert (message.tenant_id, message.to, message.status, message.dedupe_key) == (
        connection.tenant_id,
        "erp@example.test",
        "pending",
        f"integration_failures:{run.pk}",
    )
    assert "1002 Bad VAT Oy: Invalid VAT number" in message.body
    # Sent by the relay, not before.
    assert mail.outbox == []


def test_incremental_runs_read_only_what_changed_since_the_last_successful_run(connection, world):
    with at(0):
        for number in range(1, 6):
            world.local.add("product", str(100 + number), f"Product {number}")
    sync(connection, hours=1)
    sync(connection, hours=3)
    with at(5):
        world.local.change("product", 3, name="Product three")

    run = sync(connection, hours=6)

    assert run.changed_since == T0 + datetime.timedelta(hours=3)
    assert outcomes(run) == [
        ("product", TransferDirection.TO_REMOTE, "103 Product three", "updated"),
    ]
    # Read: the one local change and nothing remote older than the last run (less the
    # overlap); the record updated by this run is read back as unchanged.
    assert run.progress_total == 2
    assert run.counts["unchanged"] == 1


def test_first_run_sends_only_new_customers_unless_all_existing_are_chosen(connection, world):
    with scope(tenant=connection.tenant_id):
        Connection.objects.filter(pk=connection.pk).update(
            transfer_all_customers=False, activated_at=T0
        )
    with at(-24):
        world.local.add("customer", "1001", "Old Customer Oy")
        world.local.add("product", "100", "Old product")
    with at(0.5):
        world.local.add("customer", "1002", "New Customer Oy")

    run = sync(connection, hours=1)

    assert outcomes(run) == [
        ("customer", TransferDirection.TO_REMOTE, "1002 New Customer Oy", "created"),
        ("product", TransferDirection.TO_REMOTE, "100 Old product", "created"),
    ]


def test_skip_rules_and_one_way_entities(connection, world):
    world.adapter_options = {
        "product": {
            "local_skip": lambda local: (
                None if local.data.get("unit") else "No unit in Fortnox matches the product's unit."
            )
        },
        "project": {"directions": TO_REMOTE_ONLY},
    }
    with at(0):
        world.local.add("product", "100", "Consulting", unit="h")
        world.local.add("product", "101", "Boxes", unit="")
        world.local.add("project", "P-1", "ERP roll-out")
        world.system.add("project", "P-9", "Made in Fortnox")

    run = sync(connection, hours=1)

    assert outcomes(run) == [
        ("product", TransferDirection.TO_REMOTE, "100 Consulting", "created"),
        ("product", TransferDirection.TO_REMOTE, "101 Boxes", "skipped"),
        ("project", TransferDirection.TO_REMOTE, "P-1 ERP roll-out", "created"),
    ]
    assert len(world.system.table("product")) == 1
    assert not any(r["key"] == "P-9" for r in world.local.table("project").values())


def test_one_run_at_a_time_per_connection(connection, world):
    with scope(tenant=connection.tenant_id):
        first = sync_run_start(connection=connection, trigger=SyncTrigger.MANUAL, actor=None)
        with pytest.raises(RunInProgress) as refused:
            sync_run_start(connection=connection, trigger=SyncTrigger.API, actor=None)
        assert refused.value.run == first
        # The database refuses a second open run whatever the code does.
        with pytest.raises(IntegrityError), transaction.atomic():
            SyncRun.objects.create(
                tenant_id=connection.tenant_id,
                connection=connection,
                trigger=SyncTrigger.SCHEDULED,
                status=SyncRunStatus.RUNNING,
                created_at=clock.now(),
            )
        assert SyncRun.objects.filter(connection=connection).count() == 1
        sync_run_execute(run=first)
        # Once it finished, the next one may start.
        assert sync_run_start(connection=connection, trigger=SyncTrigger.API, actor=None)


def test_a_finished_run_is_not_executed_again(connection, world):
    with at(0):
        world.local.add("customer", "1001", "Acme Oy")
    run = sync(connection, hours=1)
    creates = world.system.requests["create"]
    with scope(tenant=connection.tenant_id):
        again = sync_run_execute(run=run)
    assert again.status == SyncRunStatus.SUCCEEDED
    assert world.system.requests["create"] == creates


def test_each_entity_type_keeps_its_own_incremental_start(connection, world):
    with at(0):
        world.local.add("customer", "1002", "Bad VAT Oy")
        world.local.add("product", "300", "Consulting")
    world.system.refused_keys["1002"] = "Invalid VAT number"

    first = sync(connection, hours=1)

    assert first.status == SyncRunStatus.PARTIAL
    with scope(tenant=connection.tenant_id):
        connection.refresh_from_db()
    assert connection.last_synced_at is None
    assert set(connection.entity_synced_at) == {"product"}

    second = sync(connection, hours=2)

    # The failing customers are read again from the start; products only since the first
    # run: the local product (unchanged since hour 0) is not read again, only the remote
    # one Fortnox-side touched by its create.
    assert outcomes(second) == [
        ("customer", TransferDirection.TO_REMOTE, "1002 Bad VAT Oy", "failed"),
    ]
    assert second.counts["unchanged"] == 1


def test_in_run_look_ups_stop_waiting_past_the_budget(connection, world, monkeypatch):
    from tests.integrations.memory import MEMORY_FACTS, MemoryConnector

    monkeypatch.setattr(
        MemoryConnector,
        "facts",
        MEMORY_FACTS.with_lookup(delays=(0.05, 0.05), in_run_budget=0.12),
    )
    with at(0):
        for number in range(1, 5):
            world.local.add("customer", str(1000 + number), f"Customer {number} Oy")
    world.system.ambiguous_creates = ["failed"] * 4
    finds = world.system.requests["find"]

    run = sync(connection, hours=1)

    assert [entry[3] for entry in outcomes(run)] == ["unverified"] * 4
    # 0.12 s of waiting: the two look-ups after the first create (0.10 s), then none (each
    # record is also looked up once before its create).
    assert world.system.requests["find"] - finds == 4 + 2
