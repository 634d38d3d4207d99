"""The bundled demo case is the simulator's output at a fixed seed, byte for byte."""

import hashlib
from pathlib import Path

from detector.simulate import simulate_case

DEMO = Path(__file__).resolve().parents[1] / "detector" / "data" / "demo"


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_regenerating_the_demo_case_gives_the_same_files(tmp_path):
    simulate_case(tmp_path / "demo", seed=0, scenario="demo")
    assert _digests(tmp_path / "demo") == _digests(DEMO)


def test_demo_case_is_small_enough_for_the_repository():
    assert sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file()) < 10 * 2**20
