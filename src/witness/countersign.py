"""The witness at work: judge a checkpoint against its history, countersign it or keep why not."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from orders import ledger
from orders.cosignatures import cosign
from witness import rules
from witness.store import Countersigned, WitnessStore, keep_countersigned, keep_refusal

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(tz=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class Witness:
    """Countersigns each checkpoint that extends the last one it countersigned; refuses the
    rest and keeps the refusal; one checkpoint at a time."""

    def __init__(self, store: WitnessStore, *, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock
        self._one_at_a_time = threading.Lock()

    def countersign(
        self, checkpoint: ledger.Checkpoint, *, from_size: int, proof: list[bytes]
    ) -> Countersigned:
        """The countersignature of `checkpoint` (the one kept, if it is the latest already);
        raises rules.Refused (kept if the service signed it) or rules.Stale (not kept)."""
        refused: rules.Refused | None = None
        with self._one_at_a_time, self.store.writing() as db:
            latest = self.store.latest(db)
            now = iso(self.clock())
            try:
                new = rules.judge(
                    checkpoint,
                    from_size=from_size,
                    proof=proof,
                    latest=None if latest is None else latest.checkpoint,
                    trusted=self.store.trusted_keys(),
                )
            except rules.Refused as e:
                refused = e
                if e.evidence:
                    keep_refusal(db, now, e.reason, checkpoint)
            else:
                if not new and latest is not None:
                    return latest
                made = Countersigned(checkpoint, cosign(self.store.private_key, checkpoint, now))
                keep_countersigned(db, made)
                return made
        assert refused is not None  # each other way out returned
        log.warning("refused a checkpoint of %d events: %s", checkpoint.size, refused.reason)
        raise refused
