"""A service's SQLite store reads its file through a memory map (shared/sqlite.py), on every
connection of its pool, not only the first."""

from pathlib import Path

from shared.persistence import open_service_store
from shared.settings import Settings
from shared.sqlite import MMAP_BYTES


def test_every_connection_of_a_store_maps_its_file(tmp_path: Path):
    store = open_service_store("intake", Settings(data_dir=tmp_path))
    datastore = store.recorder.datastore
    with datastore.get_connection(commit=False) as first, datastore.get_connection(commit=False) as second:
        assert first is not second
        for connection in (first, second):
            cursor = connection.cursor()
            cursor.execute("PRAGMA mmap_size")
            assert cursor.fetchone()[0] == MMAP_BYTES
