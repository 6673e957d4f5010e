"""The commit call is prepared once per connection (shared/postgres.py). psycopg deallocates
every statement of a connection after a ROLLBACK, a DROP or a DEALLOCATE ALL; the next commit
on it prepares the call again rather than failing."""

import uuid

from eventsourcing.persistence import StoredEvent

from services.intake.bootstrap import application
from shared.settings import Settings


def test_a_commit_after_the_connections_statements_were_deallocated_prepares_again(database_url, tmp_path):
    recorder = application(Settings(data_dir=tmp_path, database_url=database_url)).recorder
    first, second = (StoredEvent(uuid.uuid4(), 1, "tests:Happened", b'{"n":1}') for _ in range(2))
    with recorder.datastore.get_connection() as conn:
        recorder._record(conn, [first], ())
        conn.execute("DEALLOCATE ALL")
        recorder._record(conn, [second], ())
    assert [len(recorder.select_events(e.originator_id)) for e in (first, second)] == [1, 1]
