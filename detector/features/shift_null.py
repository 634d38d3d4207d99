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


@njit(cache=True, nogil=True)
def shifted_window_counts(c_key, c_code, n_key, n_code, offsets, windows):  # pragma: no cover - compiled
    """Per shift and window: the notices within the window after the latest shifted call on their target.

    ``c_key`` sorted; ``n_key`` in any order; ``offsets``: hours per shift; ``windows``: hours.
    For each notice the latest call before it is found by the binary search ``np.searchsorted(c_key
    + offset, n_key, side="left") - 1`` performs, on the same shifted keys, and the lag is
    ``n_key - (c_key + offset)``, as in ``linkage._latest_call_lag``; so the counts are that
    reference's, for every shift and window, from one pass over the notices per shift.
    """
    counts = np.zeros((offsets.size, windows.size), dtype=np.int64)
    shifted = np.empty(c_key.size)
    n_calls = c_key.size
    for d in range(offsets.size):
        offset = offsets[d]
        for j in range(n_calls):
            shifted[j] = c_key[j] + offset
        for i in range(n_key.size):
            v = n_key[i]
            lo, hi = 0, n_calls
            while lo < hi:
                mid = (lo + hi) >> 1
                if shifted[mid] < v:
                    lo = mid + 1
                else:
                    hi = mid
            j = lo - 1
            if j < 0 or c_code[j] != n_code[i]:
                continue
            lag = v - shifted[j]
            if lag > 0:
                for w in range(windows.size):
                    if lag <= windows[w]:
                        counts[d, w] += 1
    return counts
