"""The co-reporting network's compiled core, and the network straight from a complaint-log CSV.

:func:`detector.features.networks.co_reporting_edges` (the pipeline's entry, over the notices
frame) and :func:`co_reporting_edges_csv` (a file in the Coordination Network Toolkit's CSV
layout, read as the toolkit reads it) share one kernel, :func:`edge_weights`: events grouped by
target with a counting sort, each event's inclusive time window found by two pointers, and every
reporter's neighbours counted once per report of theirs, reporter by reporter, in a dense scratch
array (no table of pairs is ever built or sorted), on two threads over reporter ranges of equal
work. Cost is linear in the (event, neighbour) pairs, as the toolkit's self-join. From a CSV, ids
are factorised by compiled hash tables that compare bytes; a column of millions of distinct ids
(the reporters) is split by hash into partitions whose tables stay in cache.

References
----------
T. Graham, A. Bruns, D. Angus et al., "Coordination Network Toolkit", QUT Digital Media
Research Centre, 2020-2023 (coordination-network-toolkit 1.5.2 on PyPI): ``co_retweet``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from numba import njit
from numba.typed import List

from detector.errors import DetectorError

#: The toolkit's CSV columns, by position (it skips the header and never reads its names).
TOOLKIT_COLUMNS = ("message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls")
_USED = ("message_id", "user_id", "repost_id", "timestamp")


def co_reporting_edges_csv(path: str | Path, window_seconds: float, min_edge_weight: int = 2,
                           include_self_loops: bool = False) -> pd.DataFrame:
    """The co-reporting network of a complaint log in the toolkit's CSV layout, read from disk.

    The file is what ``compute_networks DB preprocess --format csv`` takes: UTF-8, a header row,
    then by position ``message_id, user_id, username, repost_id, reply_id, message, timestamp,
    urls`` — here the complaint's id, the reporter, the reported target (as ``repost_id``) and
    the time in seconds. The edges are those of :func:`detector.features.networks.co_reporting_edges`
    over the frame ``notice_id = message_id, reporter_id = user_id, target = repost_id,
    received_at = timestamp`` (so the toolkit's ``co_retweet_network``, self-loops included when
    asked): a repeated ``message_id`` counts as its first row, rows with an empty reporter or
    target or no timestamp are not events, and times are compared at microsecond precision.

    Parameters
    ----------
    path : the CSV file.
    window_seconds, min_edge_weight, include_self_loops : as in ``co_reporting_edges``.

    Returns
    -------
    DataFrame[reporter_a, reporter_b, weight] sorted by weight (descending), then ids.

    Raises
    ------
    DetectorError
        The file is missing, is not CSV with eight columns, or has a timestamp that is not a number.
    """
    table = _read_toolkit_csv(Path(path))
    reporter = table.column("user_id")
    seconds = table.column("timestamp").to_numpy().astype(np.float64)
    width = int(round(window_seconds * 1_000_000))
    # The kernels release the GIL: reporters on one core; targets, ids and the windows (which do
    # not depend on who reported) on the other.
    with ThreadPoolExecutor(max_workers=1) as pool:
        reporters = pool.submit(_factorize, reporter)
        target_code, _, target_empty = _factorize(table.column("repost_id"))
        is_event = _first_occurrences(table.column("message_id")) & np.isfinite(seconds)
        if target_empty >= 0:
            is_event &= target_code != target_empty
        events = np.flatnonzero(is_event)
        micros = np.round(seconds[events] * 1e6).astype(np.int64)
        target_code = target_code[events]
        order, lo, hi = _windows(target_code, micros, int(target_code.max()) + 1 if len(events) else 0, width)
        reporter_code, reporter_row, reporter_empty = reporters.result()
    # Events with an empty reporter stay in the windows, where they are skipped: who else is in
    # a window depends on the times only.
    by_window = _gather(reporter_code, events, order)
    if not len(events) or (reporter_empty >= 0 and not np.any(by_window != reporter_empty)):
        return _empty_edges()
    a, b, weight = _weights(by_window, lo, hi, len(reporter_row), min_edge_weight, include_self_loops,
                            skip=reporter_empty)
    # Codes follow the hash tables, not the ids: rank the reporters named by an edge by their ids.
    named = np.zeros(len(reporter_row), dtype=bool)
    named[a] = True
    named[b] = True
    position = np.cumsum(named) - 1  # code -> place among the named reporters
    names = reporter.take(pa.array(reporter_row[named])).combine_chunks()
    rank = np.empty(len(names), dtype=np.int64)
    rank[pc.sort_indices(names).to_numpy()] = np.arange(len(names))
    a, b = position[a], position[b]
    order = _edge_order(weight, rank[a], rank[b])
    ids = names.take(pa.array(np.concatenate([a[order], b[order]])))
    n_edges = len(order)
    return pd.DataFrame({"reporter_a": pd.Series(ids.slice(0, n_edges), dtype="str"),
                         "reporter_b": pd.Series(ids.slice(n_edges), dtype="str"),
                         "weight": weight[order]})


@njit(cache=True, nogil=True)
def _gather(reporter_code, events, order):  # pragma: no cover - compiled
    """``reporter_code[events[order]]`` as int32, in one pass."""
    out = np.empty(len(order), dtype=np.int32)
    for p in range(len(order)):
        out[p] = reporter_code[events[order[p]]]
    return out


def _edge_order(weight: np.ndarray, rank_a: np.ndarray, rank_b: np.ndarray) -> np.ndarray:
    """The order by weight (descending), then rank_a, then rank_b: one argsort of a packed key
    (each (a, b) is one edge, so keys are distinct) when it fits in 63 bits, else a lexsort."""
    if not len(weight):
        return np.zeros(0, dtype=np.int64)
    heaviest, n_ranks = int(weight.max()), int(max(rank_a.max(), rank_b.max())) + 1
    if (heaviest + 1) * n_ranks * n_ranks >= 2**63:
        return np.lexsort((rank_b, rank_a, -weight))
    return np.argsort((heaviest - weight) * (n_ranks * n_ranks) + rank_a * n_ranks + rank_b)


def edge_weights(target: np.ndarray, micros: np.ndarray, reporter: np.ndarray, n_reporters: int,
                 width: int, min_edge_weight: int, include_self_loops: bool
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed co-reporting weights between reporter codes, as (a, b, weight) arrays.

    ``weight(a, b)`` is the number of events by a with at least one event by b on the same
    target within ``width`` µs either side (both ends inclusive); ``weight(a, a)`` is a's number
    of events. Rows with ``weight >= min_edge_weight``, grouped by a.
    """
    target = np.ascontiguousarray(target, dtype=np.int64)
    micros = np.ascontiguousarray(micros, dtype=np.int64)
    order, lo, hi = _windows(target, micros, int(target.max()) + 1 if len(target) else 0, width)
    return _weights(np.asarray(reporter)[order].astype(np.int32), lo, hi, n_reporters, min_edge_weight,
                    include_self_loops)


def _empty_edges() -> pd.DataFrame:
    return pd.DataFrame({"reporter_a": pd.Series(dtype="object"), "reporter_b": pd.Series(dtype="object"),
                         "weight": pd.Series(dtype="int64")})  # as co_reporting_edges gives


def _read_toolkit_csv(path: Path) -> pa.Table:
    if not path.is_file():
        raise DetectorError("no such file", path=path, hint="give the complaint-log CSV")
    read = pacsv.ReadOptions(column_names=list(TOOLKIT_COLUMNS), skip_rows=1, block_size=1 << 22)
    convert = pacsv.ConvertOptions(include_columns=list(_USED), strings_can_be_null=False,
                                   column_types={"message_id": pa.string(), "user_id": pa.string(),
                                                 "repost_id": pa.string(), "timestamp": pa.float64()})
    try:
        return pacsv.read_csv(path, read_options=read, convert_options=convert)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise DetectorError(f"not a complaint log in the toolkit's layout: {error}", path=path,
                            hint="columns message_id, user_id, username, repost_id, reply_id, message, "
                                 "timestamp (seconds), urls, with a header row") from error


def _parts(column: pa.ChunkedArray) -> tuple[List, List]:
    """(offsets, bytes) of each chunk of a string column without nulls, read in place (no copy)."""
    offsets, data = List(), List()
    for chunk in column.chunks:
        _, raw_offsets, raw_data = chunk.buffers()
        offsets.append(np.frombuffer(raw_offsets, dtype=np.int32)[chunk.offset:chunk.offset + len(chunk) + 1])
        data.append(np.frombuffer(raw_data, dtype=np.uint8) if raw_data is not None else np.zeros(0, np.uint8))
    if not len(offsets):
        offsets.append(np.zeros(1, dtype=np.int32))
        data.append(np.zeros(0, dtype=np.uint8))
    return offsets, data


@njit(cache=True, nogil=True)
def _hash_strings(offsets, data):  # pragma: no cover - compiled
    """FNV-1a 64-bit of every string (a bucket hint only: equality is always checked on bytes)."""
    n = 0
    for c in range(len(offsets)):
        n += len(offsets[c]) - 1
    out = np.empty(n, dtype=np.uint64)
    g = 0
    for c in range(len(offsets)):
        off, raw = offsets[c], data[c]
        for i in range(len(off) - 1):
            h = np.uint64(14695981039346656037)
            for p in range(off[i], off[i + 1]):
                h = (h ^ np.uint64(raw[p])) * np.uint64(1099511628211)
            out[g] = h
            g += 1
    return out


@njit(cache=True, nogil=True)
def _factorize_hashed(offsets, data, hashes):  # pragma: no cover - compiled
    """Codes in order of first appearance, by an open-addressing table compared on bytes.

    Each distinct string's bytes are copied once into one buffer, so a probe compares the row
    with that buffer and never reaches back into another chunk.
    Returns (code per row, first row of each code, code of the empty string or -1).
    """
    n = len(hashes)
    size = 1 << 12  # grown as codes appear: sized by distinct strings, not rows, to stay in cache
    mask = np.uint64(size - 1)
    # Slot s is table[4s:4s + 4] = (code + 1 or 0 when free, hash, key offset, key length):
    # a probe reads one cache line, then the key's bytes.
    table = np.zeros(4 * size, dtype=np.uint64)
    codes = np.empty(n, dtype=np.int64)
    first_row = np.empty(n, dtype=np.int64)
    key_start = np.zeros(n + 1, dtype=np.int64)
    keys = np.empty(1 << 16, dtype=np.uint8)
    n_codes = 0
    g = 0
    empty = -1
    for c in range(len(offsets)):
        off, raw = offsets[c], data[c]
        for i in range(len(off) - 1):
            h = hashes[g]
            begin, length = off[i], off[i + 1] - off[i]
            slot = h & mask
            while True:
                code = np.int64(table[4 * slot]) - 1
                if code < 0:
                    first_row[n_codes] = g
                    at = key_start[n_codes]
                    if at + length > len(keys):
                        grown = np.empty(max(2 * len(keys), at + length), dtype=np.uint8)
                        grown[:at] = keys[:at]
                        keys = grown
                    keys[at:at + length] = raw[begin:begin + length]
                    key_start[n_codes + 1] = at + length
                    _put(table, slot, n_codes, h, at, length)
                    if length == 0:
                        empty = n_codes
                    codes[g] = n_codes
                    n_codes += 1
                    if 2 * n_codes > size:  # keep the table at most half full
                        size *= 2
                        mask = np.uint64(size - 1)
                        table = np.zeros(4 * size, dtype=np.uint64)
                        for known in range(n_codes):
                            kh = hashes[first_row[known]]
                            ks = kh & mask
                            while table[4 * ks] != 0:
                                ks = (ks + np.uint64(1)) & mask
                            _put(table, ks, known, kh, key_start[known], key_start[known + 1] - key_start[known])
                    break
                if table[4 * slot + 1] == h and table[4 * slot + 3] == length:
                    if _same_bytes(keys, table[4 * slot + 2], raw, begin, length):
                        codes[g] = code
                        break
                slot = (slot + np.uint64(1)) & mask
            g += 1
    return codes, first_row[:n_codes].copy(), empty


@njit(cache=True, nogil=True, inline="always")
def _same_bytes(a, a_start, b, b_start, length):  # pragma: no cover - compiled
    """Whether ``a[a_start:a_start + length]`` equals ``b[b_start:b_start + length]`` (a key compare)."""
    for q in range(length):
        if a[a_start + q] != b[b_start + q]:
            return False
    return True


@njit(cache=True, nogil=True, inline="always")
def _put(table, slot, code, h, at, length):  # pragma: no cover - compiled
    table[4 * slot] = code + 1
    table[4 * slot + 1] = h
    table[4 * slot + 2] = at
    table[4 * slot + 3] = length


def _factorize(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, int]:
    """(code per row, first row of each code, code of the empty string or -1) of a string column."""
    offsets, data = _parts(column)
    hashes = _hash_strings(offsets, data)
    # Distinct strings, estimated from every 64th row: past ~2^15 one table outgrows the cache.
    estimate = min(len(hashes), 64 * len(np.unique(hashes[::64])))
    if estimate <= 1 << 15:
        return _factorize_hashed(offsets, data, hashes)
    part_bits = min(12, (estimate >> 13).bit_length())  # about 2^13 distinct strings per partition
    return _factorize_partitioned(offsets, data, hashes, part_bits)


@njit(cache=True, nogil=True)
def _factorize_partitioned(offsets, data, hashes, part_bits):  # pragma: no cover - compiled
    """As :func:`_factorize_hashed`, for many distinct strings: one small table per hash partition.

    Rows are first copied, grouped by the top ``part_bits`` bits of their hash (hash, row and
    bytes side by side, each group contiguous), then each group is factorised with its own
    table, which stays in cache, instead of probing one table of millions of slots at random.
    A key is its first row's bytes in the group's copy. Codes are numbered group by group, rows
    in order within a group: they depend on the strings only.
    """
    n = len(hashes)
    n_parts = 1 << part_bits
    shift = np.uint64(64 - part_bits)
    # Pass 1: rows and bytes per partition, so each partition's copy is one contiguous run.
    rows_in = np.zeros(n_parts + 1, dtype=np.int64)
    bytes_in = np.zeros(n_parts + 1, dtype=np.int64)
    g = 0
    for c in range(len(offsets)):
        off = offsets[c]
        for i in range(len(off) - 1):
            q = np.int64(hashes[g] >> shift)
            rows_in[q + 1] += 1
            bytes_in[q + 1] += off[i + 1] - off[i]
            g += 1
    for q in range(n_parts):
        rows_in[q + 1] += rows_in[q]
        bytes_in[q + 1] += bytes_in[q]
    # Pass 2: the copy. Entry s of partition q (rows_in[q] <= s < rows_in[q + 1]) is row
    # p_row[s] with hash p_hash[s] and bytes p_bytes[p_start[s]:p_start[s + 1]].
    row_fill = rows_in[:-1].copy()
    byte_fill = bytes_in[:-1].copy()
    p_hash = np.empty(n, dtype=np.uint64)
    p_row = np.empty(n, dtype=np.int64)
    p_start = np.empty(n, dtype=np.int64)
    p_bytes = np.empty(max(bytes_in[n_parts], 1), dtype=np.uint8)
    g = 0
    for c in range(len(offsets)):
        off, raw = offsets[c], data[c]
        for i in range(len(off) - 1):
            h = hashes[g]
            q = np.int64(h >> shift)
            s = row_fill[q]
            row_fill[q] += 1
            p_hash[s] = h
            p_row[s] = g
            at = byte_fill[q]
            p_start[s] = at
            for k in range(off[i], off[i + 1]):
                p_bytes[at] = raw[k]
                at += 1
            byte_fill[q] = at
            g += 1
    # Pass 3: partition by partition, one table (slots as in _factorize_hashed, the key offset
    # pointing into p_bytes), cleared and reused.
    codes = np.empty(n, dtype=np.int64)
    first_row = np.empty(n, dtype=np.int64)
    table = np.zeros(4 * 1024, dtype=np.uint64)
    n_codes = 0
    empty = -1
    for q in range(n_parts):
        base = n_codes
        size = 1024
        mask = np.uint64(size - 1)
        table[:4 * size] = 0
        end_q = rows_in[q + 1]
        for s in range(rows_in[q], end_q):
            h = p_hash[s]
            begin = p_start[s]
            length = (p_start[s + 1] if s + 1 < end_q else byte_fill[q]) - begin
            slot = h & mask
            while True:
                code = np.int64(table[4 * slot]) - 1
                if code < 0:
                    table[4 * slot] = n_codes + 1
                    table[4 * slot + 1] = h
                    table[4 * slot + 2] = begin
                    table[4 * slot + 3] = length
                    first_row[n_codes] = p_row[s]
                    if length == 0:
                        empty = n_codes
                    codes[p_row[s]] = n_codes
                    n_codes += 1
                    if 2 * (n_codes - base) > size:  # at most half full: double and re-insert
                        old = table[:4 * size].copy()
                        size *= 2
                        mask = np.uint64(size - 1)
                        if 4 * size > len(table):
                            table = np.zeros(4 * size, dtype=np.uint64)
                        else:
                            table[:4 * size] = 0
                        for o in range(size // 2):
                            if old[4 * o] != 0:
                                ks = old[4 * o + 1] & mask
                                while table[4 * ks] != 0:
                                    ks = (ks + np.uint64(1)) & mask
                                for j in range(4):
                                    table[4 * ks + j] = old[4 * o + j]
                    break
                if table[4 * slot + 1] == h and np.int64(table[4 * slot + 3]) == length:
                    if _same_bytes(p_bytes, np.int64(table[4 * slot + 2]), p_bytes, begin, length):
                        codes[p_row[s]] = code
                        break
                slot = (slot + np.uint64(1)) & mask
    return codes, first_row[:n_codes].copy(), empty


def _first_occurrences(column: pa.ChunkedArray) -> np.ndarray:
    """True at the first row of every distinct string (the toolkit's ``insert or ignore``).

    Ids are nearly always unique: distinct 64-bit hashes prove it after one sort; only when two
    hashes meet are the strings factorised exactly.
    """
    offsets, data = _parts(column)
    hashes = _hash_strings(offsets, data)
    ordered = np.sort(hashes)
    if not np.any(ordered[1:] == ordered[:-1]):
        return np.ones(len(hashes), dtype=bool)
    codes, first_row, _ = _factorize_hashed(offsets, data, hashes)
    return first_row[codes] == np.arange(len(codes))


@njit(cache=True, nogil=True)
def _counting_sort(keys, n_keys):  # pragma: no cover - compiled
    """Stable counting sort of the codes ``keys`` (0 .. n_keys - 1): (start, order), where the
    positions of key ``g`` are ``order[start[g]:start[g + 1]]`` in their original order."""
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(len(keys)):
        start[keys[i] + 1] += 1
    for g in range(n_keys):
        start[g + 1] += start[g]
    fill = start[:-1].copy()
    order = np.empty(len(keys), dtype=np.int64)
    for i in range(len(keys)):
        g = keys[i]
        order[fill[g]] = i
        fill[g] += 1
    return start, order


@njit(cache=True, nogil=True)
def _windows(target, micros, n_targets, width):  # pragma: no cover - compiled
    """Events ordered by (target, time) and each one's window [lo, hi) in that order.

    A stable counting sort by target keeps a time-ordered log's order within each target, so
    only targets whose events are out of time order are sorted (by time, stably).
    """
    n = len(target)
    start, order = _counting_sort(target, n_targets)
    times = np.empty(n, dtype=np.int64)
    for p in range(n):
        times[p] = micros[order[p]]
    for g in range(n_targets):
        a, b = start[g], start[g + 1]
        for p in range(a + 1, b):
            if times[p] < times[p - 1]:
                by_time = np.argsort(times[a:b], kind="mergesort")
                order[a:b] = order[a:b][by_time]
                times[a:b] = times[a:b][by_time]
                break
    lo = np.empty(n, dtype=np.int64)
    hi = np.empty(n, dtype=np.int64)
    for g in range(n_targets):
        a, b = start[g], start[g + 1]
        left, right = a, a
        for p in range(a, b):
            while times[left] < times[p] - width:
                left += 1
            if right < p + 1:
                right = p + 1
            while right < b and times[right] <= times[p] + width:
                right += 1
            lo[p] = left
            hi[p] = right
    return order, lo, hi


def _weights(reporter: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_reporters: int, min_weight: int,
             include_self_loops: bool, workers: int = 2, skip: int = -1
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, weight) for every reporter pair, reporter a by reporter a, on ``workers`` threads.

    ``reporter``, ``lo`` and ``hi`` are in (target, time) order. The reporters are cut into
    ``workers`` ranges of about equal work (the window sizes of their reports); each range is
    counted by :func:`_weights_of` on its own thread (the kernel releases the GIL) and the
    ranges' rows are joined in range order, so the result does not depend on the threads.
    Reports by reporter ``skip`` (an empty id) are no one's: they count for no edge.
    """
    # Work per reporter, estimated from every 16th report (the cut only balances the threads).
    work = np.cumsum(np.bincount(reporter[::16], weights=(hi - lo)[::16], minlength=n_reporters))
    cuts = np.searchsorted(work, work[-1] * np.arange(1, workers) / workers) if n_reporters else []
    bounds = [0, *(int(c) for c in cuts), n_reporters]
    ranges = [(bounds[k], bounds[k + 1]) for k in range(workers) if bounds[k] < bounds[k + 1]]

    def count(first_a: int, end_a: int):
        return _weights_of(reporter, lo, hi, n_reporters, first_a, end_a, min_weight, include_self_loops, skip)

    if len(ranges) <= 1:
        parts = [count(*r) for r in ranges]
    else:
        with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
            parts = list(pool.map(lambda r: count(*r), ranges))
    if not parts:
        return (np.zeros(0, np.int64),) * 3
    return tuple(np.concatenate([part[k] for part in parts]) for k in range(3))


@njit(cache=True, nogil=True)
def _weights_of(reporter, lo, hi, n_reporters, first_a, end_a, min_weight,
                include_self_loops, skip):  # pragma: no cover - compiled
    """(a, b, weight) for the reporters a in [first_a, end_a), reporter a by reporter a.

    The range's reports are first listed reporter by reporter (a counting sort that keeps only
    this range, reading ``reporter``, ``lo`` and ``hi`` in order): report q of the list has the
    window ``[window_lo[q], window_hi[q])``. Each report's window is scanned once; ``seen[2b]``
    holds the last report in whose window b was met (so b counts once per report of a) and
    ``seen[2b + 1]`` b's count so far, side by side so one cache line serves both (int32: a log
    of 2^31 events would not fit in memory); the reporters met are listed as they first appear,
    then emitted and their counts reset. a's self-loop, when kept, comes first.
    """
    start = np.zeros(end_a - first_a + 1, dtype=np.int64)  # a's reports: start[a - first_a] ...
    for p in range(len(reporter)):
        if first_a <= reporter[p] < end_a:
            start[reporter[p] - first_a + 1] += 1
    for a in range(end_a - first_a):
        start[a + 1] += start[a]
    fill = start[:-1].copy()
    window_lo = np.empty(start[-1], dtype=np.int64)
    window_hi = np.empty(start[-1], dtype=np.int64)
    for p in range(len(reporter)):
        a = reporter[p]
        if first_a <= a < end_a:
            window_lo[fill[a - first_a]] = lo[p]
            window_hi[fill[a - first_a]] = hi[p]
            fill[a - first_a] += 1
    seen = np.full(2 * n_reporters, -1, dtype=np.int32)
    for b in range(n_reporters):
        seen[2 * b + 1] = 0
    met = np.empty(n_reporters, dtype=np.int32)
    capacity = 1024
    out_a = np.empty(capacity, dtype=np.int64)
    out_b = np.empty(capacity, dtype=np.int64)
    out_w = np.empty(capacity, dtype=np.int64)
    n_out = 0
    for a in range(first_a, end_a):
        n_events = start[a - first_a + 1] - start[a - first_a]
        if n_events == 0 or n_events < min_weight or a == skip:  # weight(a, b) <= n_events
            continue
        if include_self_loops and n_events >= min_weight:  # every report matches itself
            if n_out == capacity:
                capacity *= 2
                out_a, out_b, out_w = _grow(out_a, capacity), _grow(out_b, capacity), _grow(out_w, capacity)
            out_a[n_out], out_b[n_out], out_w[n_out] = a, a, n_events
            n_out += 1
        n_met = 0
        for q in range(start[a - first_a], start[a - first_a + 1]):
            for k in range(window_lo[q], window_hi[q]):
                b = reporter[k]
                if b != a and b != skip and seen[2 * b] != q:
                    seen[2 * b] = q
                    if seen[2 * b + 1] == 0:
                        met[n_met] = b
                        n_met += 1
                    seen[2 * b + 1] += 1
        for m in range(n_met):
            b = met[m]
            if seen[2 * b + 1] >= min_weight:
                if n_out == capacity:
                    capacity *= 2
                    out_a, out_b, out_w = _grow(out_a, capacity), _grow(out_b, capacity), _grow(out_w, capacity)
                out_a[n_out], out_b[n_out], out_w[n_out] = a, b, seen[2 * b + 1]
                n_out += 1
            seen[2 * b + 1] = 0
    return out_a[:n_out].copy(), out_b[:n_out].copy(), out_w[:n_out].copy()


@njit(cache=True, nogil=True)
def _grow(values, capacity):  # pragma: no cover - compiled
    grown = np.empty(capacity, dtype=values.dtype)
    grown[:len(values)] = values
    return grown
