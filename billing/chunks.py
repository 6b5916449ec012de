"""A run's work shared by any number of workers, on any number of machines (DESIGN §3.4).

A run (`BillingRun`, one per kind and date) is split into chunks (`BillingRunChunk`) of up
to a batch of items each: the due subscriptions of a rollover, the due orders of an
invoicing run (all the orders of one recipient in one chunk). Every worker that runs the
same run, a Celery worker on any machine or `manage.py billing_run`, does the same:

1. `chunks_plan`: under the run's row lock, the first worker of an attempt splits the work
   due now into chunks; the others find open chunks and join in;
2. `chunks_work`: claim an open chunk with `SELECT … FOR UPDATE SKIP LOCKED`, do its work in
   the same transaction and mark it done; repeat. Workers never wait for one another, and
   none does another's work;
3. with `wait`, once nothing is left to claim, wait for the chunks other workers hold
   (the same claim without SKIP LOCKED) and take over any whose worker died: its
   transaction rolled back with the worker's connection, so its work is undone and the chunk
   is open again. Then the run's work is all done, so the next step (the invoicing run after
   the day's rollover) sees all of it.

The PostgreSQL database is what the workers share: it hands out the chunks, and the
effects are guarded by its unique keys as always. What limits the speed is the database (the
chunks' statements, and numbering: one seller's invoices are numbered one transaction at a
time, under the counter's row lock) and the number of cores running workers.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.db.models import Max

from billing.models import BillingRun, BillingRunChunk, BillingRunChunkStatus
from billing.run_records import RunTally
from severa import clock


def chunks_plan(run: BillingRun, work: Callable[[], Sequence[list[Any]]]) -> int:
    """Split `work()` (the items due now, chunk by chunk) into open chunks of `run`, unless
    the run has open chunks already (another worker of this attempt planned them, or a
    killed worker left them); returns how many open chunks the run has."""
    with transaction.atomic():
        BillingRun.objects.select_for_update().filter(pk=run.pk).first()
        open_chunks = BillingRunChunk.objects.filter(run=run, status=BillingRunChunkStatus.OPEN)
        existing = open_chunks.count()
        if existing:
            return existing
        last = BillingRunChunk.objects.filter(run=run).aggregate(last=Max("number"))["last"] or 0
        chunks = [
            BillingRunChunk(run=run, number=last + offset, items=items)
            for offset, items in enumerate(work(), start=1)
        ]
        BillingRunChunk.objects.bulk_create(chunks, batch_size=1000)
        return len(chunks)


def _claim(run: BillingRun, *, skip_locked: bool) -> BillingRunChunk | None:
    return (
        BillingRunChunk.objects.select_for_update(skip_locked=skip_locked)
        .filter(run=run, status=BillingRunChunkStatus.OPEN)
        .order_by("number")
        .first()
    )


# Young-generation threshold while chunks are worked: a batch makes tens of thousands of
# short-lived objects that reference counting frees; with the default (700) the collector
# would run hundreds of times per batch and, every few of those, a full pass over the whole
# heap (measured at 17 % of a run's CPU).
GC_YOUNG_THRESHOLD = 50_000


@contextmanager
def gc_for_batches() -> Iterator[None]:
    """Collect garbage rarely while chunks are worked: the objects that exist before (the
    worker's modules, settings, catalog) are frozen out of every collection
    (`gc.freeze()`), and the young generation is collected every `GC_YOUNG_THRESHOLD`
    allocations instead of every 700. Both are undone afterwards."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], GC_YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def chunks_work(
    run: BillingRun, work: Callable[[list[Any]], RunTally], *, wait: bool = True
) -> RunTally:
    """Claim `run`'s open chunks one at a time and do `work(items)` for each in the claim's
    transaction, until none is left to claim; with `wait`, then also wait for the chunks
    other workers hold and take over those whose worker died (see the module docstring).
    Returns what this worker did; on an exception the chunk at hand stays open."""
    tally = RunTally()
    with gc_for_batches():
        for skip_locked in (True, False) if wait else (True,):
            while True:
                with transaction.atomic():
                    chunk = _claim(run, skip_locked=skip_locked)
                    if chunk is None:
                        break
                    done = work(chunk.items)
                    chunk.status = BillingRunChunkStatus.DONE
                    chunk.done_at = clock.now()
                    chunk.save(update_fields=["status", "done_at"])
                tally.merge(done)
    return tally


def chunked(items: Sequence[Any], size: int) -> list[list[Any]]:
    """`items` in lists of up to `size`."""
    return [list(items[start : start + size]) for start in range(0, len(items), size)]
