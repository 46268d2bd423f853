"""The lean TF-IDF transform (knowledge/tfidf.py) gives scikit-learn's rows: every hot-path
model (the risk model's heads, its topic head, the re-ranker's entry classifier) reads it in
place of `TfidfVectorizer.transform`."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from knowledge.tfidf import tfidf_rows

CORPUS = [
    "電話訪問をしばらく休みたいです",
    "でんわほうもん やすみたい",
    "見守りステッカーをなくしました。バッグごと電車に忘れてしまって",
    "父が昨日から帰ってきません",
    "ｱﾝｼﾝｺｰﾙは何時まで？",
    "ありがとうございました😊",
    "ヘルパーです。利用者さんと一緒に画面を見ています",
]
QUERIES = ["でんわほうもん しばらく やすみたい", "ステッカーがはがれた", "😢", "", "ありがとう ありがとう ありがとう", "未知の語だけ"]


@pytest.mark.parametrize(
    "vectorizer",
    [
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, dtype=np.float32),  # the risk model's n-grams
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),  # the re-ranker's entry classifier
        TfidfVectorizer(analyzer="char", ngram_range=(2, 4), min_df=2, sublinear_tf=True, dtype=np.float32),  # the topic head's reading
    ],
)
def test_lean_rows_equal_scikit_learns(vectorizer: TfidfVectorizer) -> None:
    vectorizer.fit(CORPUS)
    lean, expected = tfidf_rows(vectorizer, QUERIES), vectorizer.transform(QUERIES)
    assert lean.shape == expected.shape
    assert expected.nnz > 0
    assert np.allclose(lean.toarray(), expected.toarray(), rtol=1e-6, atol=1e-7)


def test_a_vectorizer_it_cannot_reproduce_is_refused() -> None:
    plain = TfidfVectorizer(analyzer="char", ngram_range=(1, 2)).fit(CORPUS)  # raw term counts
    with pytest.raises(ValueError, match="sublinear"):
        tfidf_rows(plain, QUERIES)
