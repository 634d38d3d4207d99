"""bench/accuracy_real_text.py: the fold's classifier never learns the fold's real posts, and the
simulated exports rewritten with real texts stay ingestible and still name their targets."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pytest

_SPEC = importlib.util.spec_from_file_location(
    "accuracy_real_text", Path(__file__).resolve().parents[1] / "bench" / "accuracy_real_text.py")
art = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(art)


def _key(df):
    return Counter(zip(df["text"], df["language"], df["group"], df["label"], strict=True))


def test_the_fold_training_set_is_the_default_one_without_the_real_rows_of_the_fold():
    from detector.features.calls import training_set

    full = training_set()
    real = art.real_rows()
    fold = art.fold_of_rows(real)
    assert sorted(set(fold)) == [0, 1, 2, 3, 4]
    for k in (0, 3):
        train = art.fold_training_set(k)
        held = real[fold == k]
        assert len(train) == len(full) - len(held)
        # every written row is kept; the real rows are exactly the other folds'
        assert _key(train[train["origin"] == "written"]) == _key(full[full["origin"] == "written"])
        assert _key(train[train["origin"] == "real"]) == _key(real[fold != k])
        assert not set(zip(held["language"], held["group"], strict=True)) & set(
            zip(train["language"], train["group"], strict=True))   # no thread on both sides


def test_whatsapp_rewrite_replaces_a_multiline_body_keeps_its_links_and_the_next_system_line():
    sep = "\r\n"
    data = sep.join([
        "[01.02.24, 07:49:51] Ekrem: first line of a call",
        "second line https://youtu.be/abcdefghijk",
        "[01.02.24, 07:50:10] Tekes: Mihray joined using this group's invite link",
        "[01.02.24, 07:51:00] \u202a+7 707 527 77 25\u202c: unrelated",
    ]) + sep
    out, done = art.rewrite_whatsapp_text(data, {("2024-02-01T07:49:51", "Ekrem"): ["Пожалуйтесь на это\nвидео"]})
    assert done == 1
    assert out == sep.join([
        "[01.02.24, 07:49:51] Ekrem: Пожалуйтесь на это", "видео", "https://youtu.be/abcdefghijk",
        "[01.02.24, 07:50:10] Tekes: Mihray joined using this group's invite link",
        "[01.02.24, 07:51:00] \u202a+7 707 527 77 25\u202c: unrelated"]) + sep


def test_telegram_rewrite_keeps_links_hidden_links_and_defanged_urls_in_tdesktop_shape():
    message = {"id": 7, "text": ["Report these: ", {"type": "link", "text": "https://youtu.be/abcdefghijk"},
                                 " and ", {"type": "text_link", "text": "video 2", "href": "https://youtu.be/bcdefghijkl"},
                                 " youtube[.]com/watch?v=cdefghijklm"],
               "text_entities": [{"type": "plain", "text": "Report these: "},
                                 {"type": "link", "text": "https://youtu.be/abcdefghijk"},
                                 {"type": "plain", "text": " and "},
                                 {"type": "text_link", "text": "video 2", "href": "https://youtu.be/bcdefghijkl"},
                                 {"type": "plain", "text": " youtube[.]com/watch?v=cdefghijklm"}]}
    art._telegram_rewrite(message, "举报他！")
    assert message["text"] == ["举报他！\n", {"type": "link", "text": "https://youtu.be/abcdefghijk"}, "\n",
                               {"type": "text_link", "text": "video 2", "href": "https://youtu.be/bcdefghijkl"},
                               "\nyoutube[.]com/watch?v=cdefghijklm"]
    assert "".join(e["text"] for e in message["text_entities"]) == "".join(
        p if isinstance(p, str) else p["text"] for p in message["text"])


def _posts(db: Path):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT chat_title, author, posted_at, text, targets FROM posts").df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def rewritten_case(tmp_path_factory):
    """Simulated mixed case (seed 1000) ingested as written and after rewriting with fold 0."""
    from detector.ingestion import ingest
    from detector.simulate import simulate_case

    root = tmp_path_factory.mktemp("real_text")
    for name in ("plain", "real"):
        simulate_case(root / name, seed=1000, scenario="mixed")
    truth = json.loads((root / "real" / "truth.json").read_text(encoding="utf-8"))
    real = art.real_rows()
    plan = art.plan_case(truth, real[art.fold_of_rows(real) == 0], np.random.default_rng(0))
    assert art.rewrite_case(root / "real", truth, plan) == len(plan)
    for name in ("plain", "real"):
        ingest([root / name], root / f"{name}.duckdb")
    return plan, real[art.fold_of_rows(real) == 0], _posts(root / "plain.duckdb"), _posts(root / "real.duckdb")


def test_rewritten_exports_are_ingested_with_every_post_and_every_target_they_named(rewritten_case):
    plan, _, plain, real = rewritten_case
    roles = Counter(item["role"] for item in plan)
    assert roles["call"] >= 5 and roles["thanks"] >= 10
    assert {item["post"]["platform"] for item in plan} == {"telegram", "whatsapp"}
    assert len(real) == len(plain)   # no message split or merged
    key = ["chat_title", "author", "posted_at"]
    before = plain.set_index(key)["targets"].map(lambda t: sorted(t if t is not None else []))
    after = real.set_index(key)["targets"].map(lambda t: set(t if t is not None else []))
    assert before.index.is_unique and after.index.is_unique
    assert all(set(before[k]) <= after[k] for k in before.index)
    # the replaced posts carry the real texts
    texts = real["text"].tolist()
    for item in plan:
        assert any(t.startswith(item["text"]) for t in texts), item["text"][:60]


def test_replacements_come_from_the_fold_and_fit_the_role(rewritten_case):
    plan, pool, _, _ = rewritten_case
    rows = {(f, r) for f, r in zip(pool["file"], pool["row"], strict=True)}
    for item in plan:
        assert (item["file"], item["row"]) in rows
        assert item["real_label"] == art.ROLES[item["role"]][0]
    # a call and its forwards and copies share one real text
    by_group: dict[str, set] = {}
    for item in plan:
        by_group.setdefault(item["group"], set()).add(item["text"])
    assert all(len(t) == 1 for t in by_group.values())


def test_a_fold_encoder_must_have_held_out_exactly_that_folds_threads(tmp_path):
    """The bundled encoder read every real row, so a real-text case may only use a fold's own one,
    and only if its manifest says it held out that fold's threads."""
    import shutil

    from detector.features.tuned import ADAPTER_PATH, MANIFEST_PATH

    real = art.real_rows()
    fold = art.fold_of_rows(real)
    threads = sorted(set((real["language"] + "|" + real["group"])[fold == 2]))
    folder = tmp_path / "fold2"
    folder.mkdir()
    shutil.copy(ADAPTER_PATH, folder / "adapter.npz")
    manifest = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    (folder / "adapter.json").write_text(json.dumps(manifest | {"held_out": threads}), encoding="utf-8")
    encoder = art.fold_encoder(2, 5, 0, tmp_path)
    assert encoder.probabilities(["report this channel now"]).shape == (1, 3)
    (folder / "adapter.json").write_text(json.dumps(manifest | {"held_out": threads[1:]}), encoding="utf-8")
    with pytest.raises(RuntimeError, match="did not hold out fold 2"):
        art.fold_encoder(2, 5, 0, tmp_path)
    (folder / "adapter.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(RuntimeError, match="did not hold out fold 2"):
        art.fold_encoder(2, 5, 0, tmp_path)
