"""The analyst's notebook runs top to bottom on a demo-like case."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from detector.evidence.verify import verify_packet  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"


@pytest.fixture(scope="module")
def small_case(tmp_path_factory) -> Path:
    """A small simulated case with one campaign: the demo's shape at a fraction of its size."""
    from detector.simulate import simulate_case

    folder = tmp_path_factory.mktemp("walkthrough") / "case"
    simulate_case(folder, seed=1, scenario="campaign", days=60, n_videos=80)
    return folder


def _kernel_name() -> str:
    """python3 from this interpreter (ipykernel's native kernel); installed into the venv if absent."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        install(prefix=sys.prefix, kernel_name="python3")
    return "python3"


@pytest.mark.slow
def test_walkthrough_runs_top_to_bottom(small_case, tmp_path, monkeypatch):
    monkeypatch.setenv("DETECTOR_DEMO_DIR", str(small_case))
    monkeypatch.setenv("DETECTOR_WORK_DIR", str(tmp_path / "work"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # run from notebooks/, Jupyter's default working folder: the demo is found from the package
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name=_kernel_name(),
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "intact" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3                                  # timeline, network, notices per 6 h
    packet = next((tmp_path / "work").glob("C*.zip"))
    assert verify_packet(packet).intact
    import detector

    ranked = detector.campaigns(tmp_path / "work" / "case.duckdb")
    best = min(ranked, key=lambda c: ({"strong": 0, "moderate": 1, "weak": 2}[c["tier"]], c["rank"]))
    assert packet.stem == best["id"] and best["notices"] > 0     # the example packet is the strongest campaign


def test_walkthrough_ships_with_the_outputs_of_a_run_on_the_demo_case():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in code)
    outputs = [o for cell in code for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 3
    assert "intact" in "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
