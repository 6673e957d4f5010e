"""A channel that writes each delivery to a file in a local outbox folder.

One file per delivery, written to a temporary name, flushed to disk and renamed, so a
file is there whole or not at all, and sending the same delivery again changes nothing.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from uuid import UUID


class OutboxFileChannel:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def send(self, delivery_id: UUID, recipient: str, message: str) -> None:
        final = self.folder / f"{delivery_id}.json"
        if final.exists():
            return
        body = {"delivery_id": str(delivery_id), "recipient": recipient, "message": message,
                "written_at": datetime.now(timezone.utc).isoformat()}
        tmp = self.folder / f".{delivery_id}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(body, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)

    def sent(self) -> list[dict]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.folder.glob("*.json"))]
