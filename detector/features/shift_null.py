"""Compiled day-shift loop of the per-target link test (numba).

For every whole-day shift, each notice is matched with the latest shifted call before it
(calls and notices are both sorted by ``target_code * span + hours``, so one merge walk per
shift replaces a binary search per notice), and its lag counts when it falls in the window.
The arithmetic is the reference's, operation for operation: ``lag = notice_key - (call_key +
offset)``, per-target sums in notice order, the statistic ``count + 0.999 * close / max(count,
1)``, so the p-values are bit for bit those of one ``searchsorted`` per shift.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def shifted_null(c_key, c_code, n_key, n_code, k, days, window_h, lo, hi, obs):  # pragma: no cover - compiled
    """Per target: shifts where the statistic reaches ``obs``, null count sum, shifts, catching shifts.

    ``days``: candidate shifts in order (already limited to those at least a window long);
    ``lo``/``hi``: each target's eligible shift range; ``obs``: each target's observed statistic.
    """
    greater = np.zeros(k)
    null_sum = np.zeros(k)
    shifts = np.zeros(k)
    catching = np.zeros(k)
    count = np.zeros(k)
    close = np.zeros(k)
    eligible = np.zeros(k, dtype=np.bool_)
    n_calls, n_notices = c_key.size, n_key.size
    for d in days:
        any_eligible = False
        for t in range(k):
            eligible[t] = lo[t] <= d and d <= hi[t]
            any_eligible = any_eligible or eligible[t]
        if not any_eligible:
            continue
        offset = 24.0 * d
        count[:] = 0.0
        close[:] = 0.0
        j = 0
        for i in range(n_notices):
            while j < n_calls and c_key[j] + offset < n_key[i]:
                j += 1
            if j == 0 or c_code[j - 1] != n_code[i]:
                continue
            lag = n_key[i] - (c_key[j - 1] + offset)
            if lag > 0 and lag <= window_h:
                count[n_code[i]] += 1.0
                close[n_code[i]] += 1.0 - lag / window_h
        for t in range(k):
            if eligible[t]:
                s = count[t] + 0.999 * close[t] / max(count[t], 1.0)
                if s >= obs[t]:
                    greater[t] += 1.0
                null_sum[t] += count[t]
                shifts[t] += 1.0
                if count[t] > 0:
                    catching[t] += 1.0
    return greater, null_sum, shifts, catching
