"""Dump zips for the DSA tests: the real fixture rows packed as the database packs them, and a synthetic wave."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from detector.dsa.synth import light_from_full, synthetic_dumps, write_dump_zip

FIXTURES = Path(__file__).parent / "fixtures" / "dsa"
V1 = FIXTURES / "sor-global-2024-03-14-full-00000-00000.csv"
V2 = FIXTURES / "sor-global-2025-07-01-full-00000-00000.csv"


def real_dumps(folder: Path) -> list[Path]:
    """The real fixture rows as four dumps: v1 and v2, full and light."""
    out = []
    for csv_path in (V1, V2):
        stem = csv_path.name.split("-full-")[0]
        raw = csv_path.read_bytes()
        full = folder / f"{stem}-full.zip"
        write_dump_zip(full, {csv_path.name: raw})
        light = folder / f"{stem}-light.zip"
        write_dump_zip(light, {csv_path.name.replace("-full-", "-light-"): light_from_full(raw)})
        out += [full, light]
    return out


def wave_dumps(folder: Path) -> list[Path]:
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range("2025-07-01", periods=28)]
    wave = {"category": "STATEMENT_CATEGORY_CYBER_VIOLENCE", "language": "RU", "rows": 60}
    return synthetic_dumps(folder, days, 300, seed=3, waves={"2025-07-20": wave, "2025-07-21": wave})
