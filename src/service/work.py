"""The service's recurring work, each called from here only: the scheduler runs it on an
interval, the command line once on demand."""

from __future__ import annotations

from datetime import datetime

from notifications.worker import Report
from orders.ledger import Checkpoint
from scheduler.jobs import Job
from scheduler.sweep import SweepResult, sweep
from service.bootstrap import Service
from service.checkpoints import latest_checkpoint, make_checkpoint, refuse
from service.integrity import Finding, verify_store
from service.witnessing import Outcome, Settled, send_to_witnesses

CHECKPOINT_LOOK_SECONDS = 5.0  # how often the scheduler looks whether a checkpoint is due


def sweep_now(service: Service) -> SweepResult:
    """Record every missed check-in and expiry that is due."""
    return sweep(service.orders, service.views, service.deadlines)


def detect_now(service: Service) -> int:
    """Run the falsification detectors over reports not yet examined; how many findings."""
    return service.detection.run()


def checkpoint_now(service: Service) -> Checkpoint | None:
    """Sign a checkpoint over the log; None if nothing is new since the latest."""
    latest = latest_checkpoint(service.orders)
    made = make_checkpoint(service.orders, now=service.orders.now())
    return None if latest is not None and made.size == latest.size else made


def checkpoint_due(service: Service) -> bool:
    """Whether a checkpoint is due: the settings' number of events are new since the latest,
    or its time has passed with anything new. Cheap: the log's head, not the log."""
    latest = latest_checkpoint(service.orders)
    new = service.views.head() - (0 if latest is None else latest.size)
    if new <= 0:
        return False
    if latest is None or new >= service.settings.checkpoint_events:
        return True
    signed = datetime.fromisoformat(latest.signed_at)
    waited = (service.orders.now() - signed).total_seconds()
    return waited >= service.settings.checkpoint_seconds


def witness_now(service: Service, settled: Settled | None = None) -> list[Outcome]:
    """Send the latest checkpoint to each witness that has not settled it (all, without a
    memo), keeping their countersignatures and refusals."""
    return send_to_witnesses(
        service.orders,
        service.settings.witness_urls,
        now=service.orders.now(),
        timeout=service.settings.witness_timeout_seconds,
        settled=settled,
    )


def check_store_now(service: Service) -> list[Finding]:
    """Verify the whole store, as verify-store does; what fails is kept and raised as an
    alarm to the admins (a checkpoint verifies only what it newly covers)."""
    failures = [f for f in verify_store(service.orders) if not f.holds]
    if failures:
        shown = "; ".join(str(f) for f in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        reason = f"store check: {len(failures)} finding(s): {shown}{more}"
        refuse(service.orders, "store check", reason, now=service.orders.now())
    return failures


def deliver_now(service: Service) -> Report:
    """Send every message of the outbox that is due, recording each attempt."""
    return service.delivery.run()


def jobs(service: Service) -> list[Job]:
    """The scheduler's jobs besides the sweep, each saying what it did when it did something."""

    def detect() -> str:
        found = detect_now(service)
        return f"recorded {found} finding(s)" if found else ""

    looked = {"head": -1}  # the log's head when the last due checkpoint found nothing to sign

    def checkpoint() -> str:
        head = service.views.head()
        if head == looked["head"] or not checkpoint_due(service):
            return ""
        made = checkpoint_now(service)
        looked["head"] = head if made is None else -1  # a gap in the log's positions
        return f"signed a checkpoint over {made.size} events" if made else ""

    def deliver() -> str:
        return str(deliver_now(service))

    def check_store() -> str:
        failures = check_store_now(service)
        return (
            f"the store does not verify: {len(failures)} finding(s), alarm raised"
            if failures
            else ""
        )

    settled: Settled = {}  # a witness is sent each checkpoint until it settles it

    def witness() -> str:
        """Send the latest checkpoint to the witnesses; say what each made of it."""
        outcomes = witness_now(service, settled)
        return "; ".join(str(outcome) for outcome in outcomes if not outcome.unreachable)

    settings = service.settings
    return [
        Job("detect", detect, settings.detect_seconds),
        Job("checkpoint", checkpoint, min(CHECKPOINT_LOOK_SECONDS, settings.checkpoint_seconds)),
        Job("deliver", deliver, settings.deliver_seconds),
        Job("check_store", check_store, settings.store_check_seconds),
        *([Job("witness", witness, settings.witness_seconds)] if settings.witness_urls else []),
    ]
