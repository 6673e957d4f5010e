"""The unit of work a follower processes one batch in (shared/eventstore.py)."""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from shared.eventstore import ServiceApplication, UnitOfWork


class Thing(Aggregate):
    @staticmethod
    def create_id(key: UUID) -> UUID:
        return key

    def __init__(self, key: UUID, name: str):
        self.name = name


def counted_reads(app: ServiceApplication) -> list:
    reads = []
    real = app.repository.get

    def get(aggregate_id, *args, **kwargs):
        reads.append(aggregate_id)
        return real(aggregate_id, *args, **kwargs)

    app.repository.get = get
    return reads


def test_an_aggregate_not_there_is_looked_up_once_per_batch_until_the_batch_adds_it():
    app = ServiceApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    reads = counted_reads(app)
    uow = UnitOfWork(app)
    missing = uuid4()
    assert [uow.get(missing) for _ in range(3)] == [None, None, None]  # a tenant without a staff directory
    assert reads == [missing]
    assert UnitOfWork(app).get(missing) is None and reads == [missing, missing]  # the next batch asks again
    created = Thing(key=missing, name="made in this batch")
    uow.add(created)
    assert uow.get(missing) is created and uow.exists(missing)


def test_what_the_store_has_is_found():
    app = ServiceApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stored = Thing(key=uuid4(), name="stored")
    app.save(stored)
    uow = UnitOfWork(app, optimistic=False)
    assert uow.get(stored.id).name == "stored" and uow.exists(stored.id)
    assert not uow.exists(uuid4())
