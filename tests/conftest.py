"""Shared fixtures: the ../shared samples and oracles, read in place."""

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the project; skipped when absent, a failure when absent under CI=true."""
    if not SHARED.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED} is missing under CI=true")
        pytest.skip(f"{SHARED} is absent: the shared samples and oracles are not beside the project")
    return SHARED


@pytest.fixture(scope="session")
def samples(shared_dir: Path) -> Path:
    return shared_dir / "samples"


@pytest.fixture(scope="session")
def app_case(tmp_path_factory) -> Path:
    """An analysed case for the app tests (test_app, test_browser): a simulated mixed case.

    ``DETECTOR_APP_CASE=demo`` uses the bundled demo case instead (slower to build; used to
    measure the app's time to first render on the demo case).
    """
    from detector.analysis import analyze_case
    from detector.ingestion import ingest
    from detector.simulate import simulate_case

    root = tmp_path_factory.mktemp("app_case")
    db = root / "case.duckdb"
    if os.environ.get("DETECTOR_APP_CASE") == "demo":
        ingest([Path(__file__).resolve().parents[1] / "detector" / "data" / "demo"], db)
        analyze_case(db)
        return db
    simulate_case(root / "sim", seed=1, scenario="mixed")
    ingest([root / "sim"], db)
    analyze_case(db)
    return db


@pytest.fixture(scope="session")
def mixed_case(tmp_path_factory) -> Path:
    """The simulated 'mixed' case (seed 1), ingested and analysed once per session; copy it to change it."""
    from detector.analysis import analyze_case
    from detector.ingestion import ingest
    from detector.simulate import simulate_case

    root = tmp_path_factory.mktemp("mixed_case")
    simulate_case(root / "files", seed=1, scenario="mixed")
    db = root / "case.duckdb"
    ingest([root / "files"], db)
    analyze_case(db)
    return db
