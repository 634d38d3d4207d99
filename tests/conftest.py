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
