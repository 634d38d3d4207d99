"""The statistics steps give the same rows and p-values as the recorded ones, bit for bit.

``tests/fixtures/stats/*.pkl.gz`` hold the inputs and outputs of ``detect_bursts`` and
``build_campaigns`` on the demo case and simulated cases of four families, recorded by
``tests/fixtures/stats/make_expected.py`` before the burst and link steps were made faster.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import pandas as pd
import pytest

from detector.campaign import CampaignInputs, build_campaigns
from detector.features.bursts import detect_bursts

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stats"
CASES = sorted(p.name.removesuffix(".pkl.gz") for p in FIXTURES.glob("*.pkl.gz"))


def _recorded(name: str) -> dict:
    with gzip.open(FIXTURES / f"{name}.pkl.gz", "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - the project's own fixture files


def _same(ours: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), expected.reset_index(drop=True), check_exact=True)


def test_fixtures_cover_the_demo_and_several_simulated_families():
    assert "demo" in CASES and len(CASES) >= 5


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("name", CASES)
def test_bursts_are_identical_to_the_recorded_ones_with_any_number_of_workers(name, workers):
    rec = _recorded(name)
    args = rec["bursts_in"]
    params = args["params"].replace(workers=workers)
    scans, bursts = detect_bursts(args["notices"], args["exposure"], args["period"], params=params)
    expected_scans, expected_bursts = rec["bursts_out"]
    _same(scans, expected_scans)
    _same(bursts, expected_bursts)


# Sentences rendered from the findings' data: their wording is detector.findings' to change; the
# numbers they are rendered from (the findings' ``data``) are compared.
RENDERED = {"findings", "text"}


@pytest.mark.parametrize("name", CASES)
def test_campaigns_findings_and_links_are_identical_to_the_recorded_ones(name):
    rec = _recorded(name)
    out = build_campaigns(CampaignInputs(**rec["campaigns_in"]))
    for ours, expected in zip(out, rec["campaigns_out"], strict=True):
        keep = [c for c in expected.columns if c not in RENDERED]
        assert list(ours.columns) == list(expected.columns)
        _same(ours[keep], expected[keep])
