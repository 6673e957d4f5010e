"""Images customers upload from a form page: kept under the data folder, named by their sha256.

The type is read from the file's first bytes (its magic number), never from what the browser
claims. A file is written under a temporary name and renamed into place, so a reader never sees
half an image, and the same image uploaded twice is stored once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from shared.errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
# Formats every phone's browser shows. (extension, media type) by magic number.
KINDS = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
REF = re.compile(r"(?P<digest>[0-9a-f]{64})\.(?P<ext>jpg|png|webp)")


class TooLarge(DomainError):
    status, code = 413, "file_too_large"


class UnsupportedType(DomainError):
    status, code = 415, "unsupported_file_type"


def sniff(head: bytes) -> str | None:
    """The extension of a JPEG, PNG or WebP file from its first bytes; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


class Uploads:
    def __init__(self, root: Path, max_bytes: int = MAX_BYTES):
        self.root = root
        self.max_bytes = max_bytes

    def check(self, data: bytes) -> str:
        """The file's extension, or the 413 / 415 that refuses it."""
        if len(data) > self.max_bytes:
            raise TooLarge(f"the file is larger than {self.max_bytes // (1024 * 1024)} MiB", max_bytes=self.max_bytes)
        ext = sniff(data[:16])
        if ext is None:
            raise UnsupportedType("only JPEG, PNG and WebP images can be uploaded", accepted=list(KINDS.values()))
        return ext

    def save(self, tenant: str, data: bytes) -> str:
        """Store the file (once) and return its reference: `<sha256>.<ext>`."""
        ref = f"{hashlib.sha256(data).hexdigest()}.{self.check(data)}"
        path = self.path(tenant, ref)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        return ref

    def path(self, tenant: str, ref: str) -> Path:
        match = REF.fullmatch(ref)
        if match is None:
            raise ValueError(f"not an upload reference: {ref!r}")
        return self.root / tenant / match["digest"][:2] / ref

    def exists(self, tenant: str, ref: str) -> bool:
        return REF.fullmatch(ref) is not None and self.path(tenant, ref).is_file()
