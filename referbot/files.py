"""Files referbot writes for the practice (exports, charts, QR codes), readable by their owner only.

An export with `--include-contact` holds clients' details; even a chart tells who refers how much.
Created with mode 0600 from the start (no moment when another user could open it), and an
existing file is narrowed to 0600 before it is overwritten.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """`open(path, mode)` for writing, but the file is the owner's alone (0600)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        return os.fdopen(descriptor, mode, **kwargs)
    except BaseException:
        os.close(descriptor)
        raise


def write_private_bytes(path: Path, data: bytes) -> None:
    with open_private(path, "wb") as stream:
        stream.write(data)
