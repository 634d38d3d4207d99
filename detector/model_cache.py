"""A fitted model kept on disk between runs, keyed by everything that made it.

Fitting the default call classifier takes seconds (6 s on the project's machine) and every
``detector analyze`` in a new process did it again. The fitted pipeline is stored once per
machine under the user's cache folder (``platformdirs``; ``DETECTOR_CACHE_DIR`` overrides it,
and ``DETECTOR_CACHE_DIR=off`` disables the cache), in a file whose name is the SHA-256 of its
inputs: the bytes of the training data and of the code that builds the features, and the
versions of Python, numpy, scipy and scikit-learn. A change to any of them gives another name,
so a stale model is never read; a file that cannot be read is refitted and replaced.

The file is a joblib pickle, which runs code when loaded: it is only ever read from the user's
own cache folder, written there by this module (atomically, by rename), never from a case or
from input.
"""

from __future__ import annotations

import hashlib
import os
import platform
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import scipy
import sklearn


def cache_dir() -> Path | None:
    """The folder holding cached models, or None when caching is switched off."""
    env = os.environ.get("DETECTOR_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in {"", "off", "0", "none"} else Path(env)
    import platformdirs

    return platformdirs.user_cache_path("detector", appauthor=False)


def fingerprint(inputs: Iterable[Path]) -> str:
    """SHA-256 over the files ``inputs`` (path names relative to the package and bytes, in
    sorted order) and the versions of the libraries a pickled pipeline depends on."""
    h = hashlib.sha256()
    for part in (platform.python_version(), np.__version__, scipy.__version__, sklearn.__version__):
        h.update(part.encode() + b"\0")
    root = Path(__file__).resolve().parent
    for path in sorted(Path(p).resolve() for p in inputs):
        h.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def cached(name: str, inputs: Iterable[Path], fit: Callable[[], object],
           save: Callable[[object, Path], object], load: Callable[[Path], object]):
    """``load`` the model ``name`` fitted from ``inputs`` if it is cached, else ``fit`` it and
    ``save`` it for the next run. Any failure of the cache falls back to fitting."""
    folder = cache_dir()
    if folder is None:
        return fit()
    path = folder / f"{name}-{fingerprint(inputs)[:32]}.joblib"
    if path.is_file():
        try:
            return load(path)
        except Exception:  # noqa: BLE001 - a damaged cache file is refitted, never fatal
            pass
    model = fit()
    tmp_path = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}-", suffix=".tmp", delete=False) as tmp:
            tmp_path = Path(tmp.name)
        save(model, tmp_path)
        os.replace(tmp_path, path)
    except OSError:
        # A read-only or full cache folder only costs the next run a refit.
        if tmp_path is not None:
            try:
                tmp_path.unlink(missing_ok=True)
            except OSError:
                pass
    return model
