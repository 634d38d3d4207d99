"""One step run beside the others in a forked process, its result collected later.

The analysis' bursts and campaigns read the same inputs and not each other's results, and
neither keeps both cores busy all along (building streams, the campaigns' link tests and the
Monte Carlo draws run on one core). Run in a forked child, the bursts use the core the
campaigns leave idle. The child starts from the parent's memory as it is (nothing is sent to it)
and sends back only its result; its work is the same as in the parent, so the result is too.

Fork only: where it is unavailable, or with one worker, the function runs at once in the
process, and :meth:`Forked.result` returns what it returned.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any


def _run_child(conn, fn: Callable, args: tuple, kwargs: dict) -> None:
    try:
        outcome = ("ok", fn(*args, **kwargs))
    except BaseException as exc:   # noqa: BLE001 - every failure goes back to the parent
        outcome = ("error", exc, traceback.format_exc())
    try:
        conn.send(outcome)
    except Exception as exc:       # an exception that cannot be pickled goes back as text
        conn.send(("error", RuntimeError(f"{exc}: {outcome[-1]}"), ""))
    finally:
        conn.close()


class Forked:
    """``fn(*args, **kwargs)`` running in a forked child (or already run, when not forking)."""

    def __init__(self, fn: Callable, *args, fork: bool = True, **kwargs) -> None:
        self._process = None
        self._outcome: tuple | None = None
        if not fork or "fork" not in multiprocessing.get_all_start_methods():
            try:
                self._outcome = ("ok", fn(*args, **kwargs))
            except Exception as exc:
                self._outcome = ("error", exc, "")
            return
        context = multiprocessing.get_context("fork")
        self._conn, child_conn = context.Pipe(duplex=False)
        # A daemon: if the parent fails before collecting, the child does not outlive it.
        self._process = context.Process(target=_run_child, args=(child_conn, fn, args, kwargs), daemon=True)
        self._process.start()
        child_conn.close()

    def result(self) -> Any:
        """The function's result, waiting for the child; its exception raised here if it failed."""
        if self._outcome is None:
            try:
                self._outcome = self._conn.recv()
            except EOFError:
                self._outcome = ("error", None, "")
            finally:
                self._conn.close()
                self._process.join()
            if self._outcome[1] is None:
                self._outcome = ("error", RuntimeError(f"the forked step died (exit code {self._process.exitcode})"),
                                 "")
        if self._outcome[0] == "error":
            raise self._outcome[1]
        return self._outcome[1]

    def cancel(self) -> None:
        """Stop the child if it still runs (the parent failed and will not collect)."""
        if self._process is not None and self._outcome is None and self._process.is_alive():
            self._process.terminate()
            self._process.join()
