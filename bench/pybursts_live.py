"""PyPI pybursts 0.1.1, made runnable on numpy 2 without editing the installed package.

pybursts builds its stack of open bursts with ``np.repeat(np.nan, N)`` (a float array) and then
indexes with its entries (``bursts[stack[stack_counter], 2]``), which numpy >= 1.24 rejects once
a burst closes. ``load_pybursts()`` gives the module its own view of numpy whose ``repeat`` of NaN
returns an object array, so the stack keeps the Python ints pybursts stores in it and they index
as ints. Nothing else changes: every other attribute is numpy's own, and numpy itself is untouched.
"""

from __future__ import annotations

import math
import types

import numpy as np


class _NumpyWithIntStack(types.SimpleNamespace):
    """numpy, except that ``repeat(nan, N)`` is an object array (NaNs until ints are stored)."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def repeat(a, repeats, axis=None):
        if isinstance(a, float) and math.isnan(a):
            return np.repeat(a, repeats, axis).astype(object)
        return np.repeat(a, repeats, axis)


def load_pybursts():
    """The ``pybursts.pybursts`` module with its numpy view patched; call ``.kleinberg(...)``.

    Its rows are ``[level, start, end]`` with levels one lower than R's (0 = base state).
    """
    from pybursts import pybursts

    if not isinstance(pybursts.np, _NumpyWithIntStack):
        pybursts.np = _NumpyWithIntStack()
    return pybursts
