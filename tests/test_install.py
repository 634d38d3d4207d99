"""The library's public API, and a real wheel installed outside the checkout running demo and packet."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import detector

ROOT = Path(__file__).resolve().parents[1]


def test_the_public_api_is_the_six_steps_each_documented_with_an_example():
    assert detector.__all__ == ["ingest", "analyze", "campaigns", "check", "packet", "verify"]
    for name in detector.__all__:
        doc = getattr(detector, name).__doc__ or ""
        assert "Examples" in doc and f"detector.{name}(" in doc, name


def test_the_library_never_imports_streamlit():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "detector").rglob("*.py")
                 if "streamlit" in p.read_text(encoding="utf-8")]
    assert offenders == []


# Imports each module first in a pristine interpreter, as a fresh `python -c "import m"` would, but
# forked from one that already holds the third-party libraries (pandas, sklearn, ...: seconds each),
# so each module costs its own import only. The package itself is never imported before the fork.
_IMPORT_EACH_FIRST = r"""
import importlib, os, sys
modules, preload = sys.argv[1].split(","), sys.argv[2].split(",")
for name in preload:
    try:
        importlib.import_module(name)
    except Exception:
        pass
assert not any(m == "detector" or m.startswith("detector.") for m in sys.modules)
failed = []
for module in modules:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(module)
            code = 0
        except BaseException as exc:
            os.write(write, f"{type(exc).__name__}: {exc}".encode()[:2000])
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed.append(f"{module}: {message or status}")
print("\n".join(failed))
sys.exit(1 if failed else 0)
"""

_THIRD_PARTY = r"""
import importlib, sys
for module in sys.argv[1].split(","):
    try:                  # a module that fails here fails below, imported on its own
        importlib.import_module(module)
    except Exception:
        pass
print(",".join(sorted({m.split(".")[0] for m in sys.modules
                       if m.split(".")[0] not in ("detector", "__main__") and not m.startswith("_")})))
"""


def test_the_library_has_no_import_cycle():
    """Every module of the package imports first in a fresh interpreter, one at a time."""
    modules = sorted("detector." + ".".join(p.relative_to(ROOT / "detector").with_suffix("").parts)
                     for p in (ROOT / "detector").rglob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    listed = subprocess.run([sys.executable, "-c", _THIRD_PARTY, ",".join(modules)], capture_output=True,
                            text=True, cwd=ROOT)
    assert listed.returncode == 0, listed.stderr[-2000:]
    preload = listed.stdout.strip()
    assert "pandas" in preload.split(",")
    proc = subprocess.run([sys.executable, "-c", _IMPORT_EACH_FIRST, ",".join(modules), preload],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]


@pytest.mark.slow
def test_a_wheel_installed_outside_the_checkout_runs_demo_and_packet(tmp_path):
    wheels = tmp_path / "wheels"
    leftover = not (ROOT / "build").exists()     # setuptools builds in ROOT/build: remove what we made
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "--quiet", "--wheel-dir", str(wheels), str(ROOT)], capture_output=True, text=True)
    if leftover:
        import shutil

        shutil.rmtree(ROOT / "build", ignore_errors=True)
    assert build.returncode == 0, build.stderr
    wheel = next(wheels.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "detector/data/calls/lexicon.json" in names and "detector/data/demo/notices.csv" in names
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
                              str(target), str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    # The installed copy comes first; the checkout is nowhere on the path (dependencies come from
    # this interpreter's site-packages).
    runner = ("import sys; sys.path.insert(0, sys.argv.pop(1)); import detector; "
              "assert detector.__file__.startswith(sys.argv[1]), detector.__file__; "
              "from detector.cli import main; sys.argv = ['detector'] + sys.argv[2:]; main()")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def run(*args):
        return subprocess.run([sys.executable, "-c", runner, str(target), str(target), *args], cwd=work,
                              capture_output=True, text=True, env=env)

    demo = run("demo", "--db", "demo.duckdb")
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "strong" in demo.stdout
    listed = run("campaigns", "--db", "demo.duckdb", "--json")
    import json

    top = json.loads(listed.stdout)[0]
    out = run("packet", top["id"], "-o", "p.zip", "--db", "demo.duckdb")
    assert out.returncode == 0, out.stderr[-2000:]
    assert run("verify", "p.zip").returncode == 0


def test_one_module_reads_an_analysed_case_for_every_front_end():
    """The CLI, the app and the packet read stored tables only through detector.results."""
    # the store itself, and the two pipelines that derive new rows from ingested ones (analysis, watch)
    allowed = {"detector/results.py", "detector/store.py", "detector/analysis.py", "detector/status.py",
               "detector/watch.py"}
    readers = sorted(str(p.relative_to(ROOT)) for p in [*(ROOT / "detector").rglob("*.py"),
                                                        *(ROOT / "detector_app").rglob("*.py"), ROOT / "app.py"]
                     if any(call in p.read_text(encoding="utf-8") for call in (".derived(", "case.table(", "case.query(")))
    assert set(readers) <= allowed, set(readers) - allowed
