"""Cyclic garbage collection paused while many acyclic containers are made."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection meanwhile; it resumes afterwards (if it was on).

    Making millions of containers that hold no reference cycles (parsed JSON, a Python list per
    row of a list column) sets off repeated full collections that walk every container made so
    far: more than the work itself (ten times the lists' own cost at 10^6 rows). Nothing is left
    for the collector to free, so pausing it changes nothing but the time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
