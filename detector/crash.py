"""Crash reports: what a bug leaves behind, so the user sees one line and the maintainers get the rest.

A traceback names local paths (the user's home, the case, the inputs) and means nothing to
the analyst, so the CLI never prints one: it writes it here, to a file in the directory named by
``DETECTOR_CRASH_DIR`` or else the system's temporary directory, and prints that file's path.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("mass-report-detector")
    except Exception:  # noqa: BLE001 - a report must be written even from a broken install
        return "unknown"


def write_crash_report(exc: BaseException, argv: list[str] | None = None) -> Path | None:
    """Write ``exc``'s traceback with the version, platform and command to a new file; its path,
    or None when no directory is writable (the crash is then still reported in one line)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = "\n".join([
        "mass-report-detector crash report",
        f"time: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"version: {_version()}",
        f"python: {sys.version.split()[0]} on {platform.platform()}",
        f"command: {' '.join(argv or [])}",
        "",
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    ])
    for folder in (os.environ.get("DETECTOR_CRASH_DIR"), tempfile.gettempdir()):
        if not folder:
            continue
        try:
            fd, name = tempfile.mkstemp(prefix=f"detector-crash-{stamp}-", suffix=".txt", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(text)
            return Path(name)
        except OSError:
            continue
    return None
