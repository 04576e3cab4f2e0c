"""Writing the files a command was asked for: the one place an output file is opened."""

from __future__ import annotations

import os

from gate.errors import OutputError


def write_file(path: str, data: bytes, *, what: str) -> None:
    """Write `data` to `path` (its folder created), closed before returning; any failure is an
    OutputError (exit 5) naming the file and `what` it was (`the catalogue`, `the json output`)."""
    try:
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise OutputError(f"cannot write {what}: {exc.strerror or exc}", file=path) from None
