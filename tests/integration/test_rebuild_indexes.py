"""A rebuild builds the emptied tables' indexes once it has filled them: it ends with every
index the views declare, also when it fails part way, and gives the same rows as before."""

from __future__ import annotations

import pytest

from projections.database import ViewDatabase
from projections.follower import Follower
from service.bootstrap import Service
from tests.integration.helpers import issued_order


def indexes(db: ViewDatabase) -> set[str]:
    if db.postgres:
        rows = db.query("SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'")
    else:
        rows = db.query("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {row["name"] for row in rows}


def declared(views: Follower) -> set[str]:
    return {name for p in views.projections for name in p.rebuilt_indexes()}


def test_a_rebuild_ends_with_every_index_and_the_same_rows(service: Service) -> None:
    issued_order(service.orders)
    service.views.catch_up()
    before = service.views.db.query("SELECT * FROM timeline ORDER BY position")
    assert declared(service.views) <= indexes(service.views.db)
    assert "timeline_order" in declared(service.views)

    service.views.rebuild()

    assert declared(service.views) <= indexes(service.views.db)
    assert service.views.db.query("SELECT * FROM timeline ORDER BY position") == before


def test_a_rebuild_that_fails_part_way_still_leaves_every_index(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued_order(service.orders)
    service.views.catch_up()

    during: set[str] = set()

    def fails(*args: object) -> int:
        during.update(indexes(service.views.db))
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Follower, "_apply_batch", fails)
    with pytest.raises(RuntimeError):
        service.views.rebuild()
    assert not declared(service.views) & during  # built after the filling, not kept during it
    assert declared(service.views) <= indexes(service.views.db)


def test_unique_indexes_stay_through_a_rebuild(service: Service) -> None:
    unique = {"staff_member"}  # the directory's: one row per member, a rule not a speed-up
    assert not unique & declared(service.views)
    assert unique <= indexes(service.views.db)
