"""Who holds the data directory: running servers share it, `scanmatch purge` needs it alone.

A server keeps the FAISS indexes in memory and saves them now and then: a purge that edited the index
files under a running server would see its vectors written back. So the server holds a shared lock on
`<data dir>/scanmatch.lock` while it runs, and a purge takes it exclusively, refusing while any server
(or another purge) holds it. The locks are flock(2) locks: the kernel drops them when a process ends,
kill -9 included, so a crash never leaves the directory locked.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from service.domain.errors import DataDirectoryBusy

LOCK_FILE = "scanmatch.lock"


@contextmanager
def _locked(data_dir: Path, mode: int, busy: str) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirectoryBusy(busy.format(data_dir=data_dir)) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def serving(data_dir: Path) -> AbstractContextManager[None]:
    """Held by a server for as long as it runs; several servers may share the directory."""
    return _locked(
        data_dir,
        fcntl.LOCK_SH,
        "`scanmatch purge` is running on {data_dir}: start the server once it has finished",
    )


def alone(data_dir: Path) -> AbstractContextManager[None]:
    """Held by a purge: no server may run on the directory meanwhile."""
    return _locked(
        data_dir,
        fcntl.LOCK_EX,
        "a scanmatch server (or another purge) is using {data_dir}: stop it and run the purge again "
        "(a running server keeps the indexes in memory and would write the purged vectors back)",
    )
