"""Property-based fuzzing of every reader: a mutated real file is either read or refused with a
DetectorError, never another exception, and quickly.

Seeds are the real samples (../shared) plus the e-mail fixtures and the demo case's CSVs and
zip (see ``tests/hostile.py``); hypothesis picks a seed, a mutation (byte flips, truncation,
junk, huge lines, deep nesting, implausible dates, zip variants, invalid structure) and the
mutation's random draws, then runs the reader as ``ingest --format`` would plus the checks at the
door. Budgets keep the whole file well under a minute on a loaded two-core machine.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time

import hostile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.collect import format_named
from detector.collect.base import ReadOptions
from detector.collect.limits import json_depth
from detector.errors import DetectorError
from detector.ingestion import check_parsed

SEEDS = hostile.load_seeds()
SLOWEST_S = 10.0   # one variant, even a 4 MB line or a 40 MiB zip bomb, on a loaded machine


@pytest.fixture(autouse=True, scope="module")
def _small_bombs():
    saved = hostile.BOMB_SIZES_MIB
    hostile.BOMB_SIZES_MIB = (40,)
    yield
    hostile.BOMB_SIZES_MIB = saved


@pytest.fixture(autouse=True, scope="module")
def _readers_warmed(tmp_path_factory, _small_bombs):
    """Read every real seed once before anything is timed: one-time costs (imports, the CLDR
    locale table the WhatsApp date order consults, ~4 s) are paid once per process, not per
    variant, and ``SLOWEST_S`` bounds the per-variant cost."""
    folder = tmp_path_factory.mktemp("warm")
    for seed in SEEDS:
        for dayfirst in {seed.dayfirst, None}:   # None: the date order inferred from the file
            read_as_ingest_would(dataclasses.replace(seed, dayfirst=dayfirst), seed.name, seed.data, folder)


def read_as_ingest_would(seed: hostile.Seed, name: str, data: bytes, folder) -> str:
    """'read' or 'refused'; any other exception propagates (and fails the property)."""
    path = folder / name
    path.write_bytes(data)
    try:
        if not data:
            raise DetectorError("empty file", path)   # ingest refuses empty files before any reader
        parsed = format_named(seed.fmt).read(path, ReadOptions(tz="UTC", dayfirst=seed.dayfirst))
        check_parsed(parsed, path)
    except DetectorError as exc:
        assert exc.path is None or exc.path.endswith(name)
        return "refused"
    finally:
        path.unlink()
    return "read"


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(seed_index=st.integers(0, len(SEEDS) - 1), mutation=st.sampled_from(sorted(hostile.MUTATIONS)),
       draw=st.integers(0, 2**32))
def test_every_reader_reads_or_refuses_any_mutation_of_a_real_file(tmp_path_factory, seed_index, mutation, draw):
    seed = SEEDS[seed_index]
    if not hostile.applicable(mutation, seed):
        return
    name, data = hostile.MUTATIONS[mutation](seed, random.Random(draw))
    start = time.perf_counter()
    read_as_ingest_would(seed, name, data, tmp_path_factory.mktemp("fuzz"))
    assert time.perf_counter() - start < SLOWEST_S


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(seed_index=st.integers(0, len(SEEDS) - 1), data=st.data())
def test_arbitrary_byte_edits_of_real_files_never_escape_as_other_exceptions(tmp_path_factory, seed_index, data):
    seed = SEEDS[seed_index]
    raw = bytearray(seed.data)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(raw)))
        raw[at:at + data.draw(st.integers(0, 8))] = data.draw(st.binary(max_size=12))
    read_as_ingest_would(seed, seed.name, bytes(raw), tmp_path_factory.mktemp("edits"))


def test_the_fuzzed_seeds_cover_every_reader(samples):
    """With ../shared present (required under CI=true), every format has real seeds."""
    assert {s.fmt for s in SEEDS} == {"telegram_json", "whatsapp", "lumen", "notice_email", "notices_csv",
                                      "views_csv"}
    assert sum(s.fmt == "whatsapp" for s in SEEDS) > 20


def test_unmutated_seeds_are_read(tmp_path):
    """The property above would hold vacuously if every seed were refused."""
    refused = [s.name for s in SEEDS if read_as_ingest_would(s, s.name, s.data, tmp_path) != "read"]
    assert refused == []


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n', max_size=6),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                         st.text(alphabet='[]{}"\\k', max_size=3), inner, max_size=3), max_leaves=30)


def _reference_depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(_reference_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_reference_depth, value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=_json, indent=st.sampled_from([None, 1]))
def test_json_depth_is_exact_whatever_the_strings_hold(value, indent):
    assert json_depth(json.dumps(value, indent=indent).encode()) == _reference_depth(value)
