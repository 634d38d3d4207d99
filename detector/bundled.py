"""Data that ships inside the package: the calls model's labelled posts and lexicon, the demo case.

Read through these paths so that an installed wheel (not only a checkout) finds them.
"""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
CALLS_DIR = DATA_DIR / "calls"      # labelled.csv, lexicon.json, real/
TUNED_DIR = DATA_DIR / "tuned"      # the calls encoder's fine-tuned low-rank updates (bench/calls_finetune.py)
DEMO_DIR = DATA_DIR / "demo"        # the simulated demo incident (detector simulate --scenario demo --seed 0)
