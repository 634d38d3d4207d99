"""Dump zips for the DSA tests: the real fixture rows packed as the database packs them, and a synthetic wave."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from detector.dsa.synth import light_from_full, synthetic_dumps, write_dump_zip

FIXTURES = Path(__file__).parent / "fixtures" / "dsa"
V1 = FIXTURES / "sor-global-2024-03-14-full-00000-00000.csv"
V2 = FIXTURES / "sor-global-2025-07-01-full-00000-00000.csv"
# The second part of the 2024-03-14 dump: one real Article 16 decision (Snapchat).
V1_PART2 = FIXTURES / "sor-global-2024-03-14-full-00000-00001.csv"


def real_dumps(folder: Path) -> list[Path]:
    """The real fixture rows as four dumps: v1 (two CSV parts in one inner zip) and v2, full and light."""
    out = []
    for parts in ((V1, V1_PART2), (V2,)):
        stem = parts[0].name.split("-full-")[0]
        full = folder / f"{stem}-full.zip"
        write_dump_zip(full, {p.name: p.read_bytes() for p in parts})
        light = folder / f"{stem}-light.zip"
        write_dump_zip(light, {p.name.replace("-full-", "-light-"): light_from_full(p.read_bytes()) for p in parts})
        out += [full, light]
    return out


def wave_dumps(folder: Path) -> list[Path]:
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range("2025-07-01", periods=28)]
    wave = {"category": "STATEMENT_CATEGORY_CYBER_VIOLENCE", "language": "RU", "rows": 60}
    return synthetic_dumps(folder, days, 300, seed=3, waves={"2025-07-20": wave, "2025-07-21": wave})
