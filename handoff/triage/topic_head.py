"""The topic head: which knowledge entry a message is about, the risk model's second opinion
beside retrieval's re-ranker (bot/decide.py weighs the two). Issue 14 §2: the topic is
reported even when the message is flagged, because the console and the reports need it.

It reads the first part of what the kind and subject heads read (the shared matrix's embedding
and character n-grams of the rules' normal form, not its rule findings) and, of its own, the
message as Sudachi reads it (knowledge/tokenize.py): character n-grams of its katakana reading, so that
「でんわほうもん やすみたい」 and 「電話訪問を休みたい」 meet, and its content words in dictionary
form, so that 申し込み / 申込 / もうしこむ do. Left-out writers' top-1 (GroupKFold over the
26 training files, bench/RESULTS.md): 0.849 on the shared matrix alone, 0.863 with the reading,
0.862 with the words.

Why not the rule findings: they are the risk words (死にたい, 倒れた, 詐欺), and they pulled the
topic toward the crisis entries when the message asks about something else (the hours of the
crisis lines, a sticker for a father who once wandered off). Four fresh writers the model never
saw (1,494 messages, bench/RESULTS.md): head top-1 0.898 with them, 0.906 without.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.extmath import softmax

from knowledge.cachefile import DerivedOnLoad
from knowledge.tfidf import tfidf_rows
from knowledge.tokenize import Analysis

# Left-out writers' top-1 by C on the shared matrix: 1 0.814, 4 0.842, 16 0.849, 64 0.849.
TOPIC_C = 16.0
# The re-ranker's labelled questions (knowledge/training/*.yaml) weigh this much beside a
# labelled message: the messages are situations told at length, the questions short asks, and
# residents write both (0.3 and 0.6 within 0.002 of each other, left-out writers).
QUESTION_WEIGHT = 0.3
SPLIT_MODE = "C"  # Sudachi's longest units (the words above were measured so)


def _reading_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char", ngram_range=(2, 4), min_df=2, sublinear_tf=True, max_features=80000, dtype=np.float32)


def _words_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=list, min_df=2, sublinear_tf=True, dtype=np.float32)


@dataclass
class TopicHead(DerivedOnLoad):
    clf: LogisticRegression
    reading: TfidfVectorizer
    words: TfidfVectorizer
    shared_columns: int  # the shared matrix's leading columns it reads: embedding and n-grams

    @classmethod
    def fit(
        cls, shared: sparse.csr_matrix, analyses: Sequence[Analysis], topics: Sequence[str], weights: np.ndarray, *, shared_columns: int, seed: int
    ) -> TopicHead:
        head = cls(
            LogisticRegression(C=TOPIC_C, max_iter=3000, random_state=seed),
            _reading_vectorizer().fit([a.reading for a in analyses]),
            _words_vectorizer().fit([a.words for a in analyses]),
            shared_columns,
        )
        head.clf.fit(head.matrix(shared, analyses), np.asarray(topics), sample_weight=weights)
        return head

    @property
    def classes_(self) -> np.ndarray:
        return self.clf.classes_

    def matrix(self, shared: sparse.csr_matrix, analyses: Sequence[Analysis]) -> sparse.csr_matrix:
        return sparse.hstack(
            [shared[:, : self.shared_columns], self.reading.transform([a.reading for a in analyses]), self.words.transform([a.words for a in analyses])],
            format="csr",
        )

    def predict_proba(self, shared: sparse.csr_matrix, analyses: Sequence[Analysis]) -> np.ndarray:
        """scikit-learn's probabilities, by its own formula (a multinomial softmax of X·coefᵀ +
        intercept) over the lean transforms."""
        fast = self.lean
        x = sparse.hstack(
            [
                shared[:, : self.shared_columns],
                tfidf_rows(self.reading, [a.reading for a in analyses], fast["reading"]),
                tfidf_rows(self.words, [a.words for a in analyses], fast["words"]),
            ],
            format="csr",
        )
        return softmax(np.asarray(x @ fast["coef_t"] + self.clf.intercept_), copy=False)

    @cached_property
    def lean(self) -> dict:
        """The analyzers and the transposed coefficients of the hot path."""
        return {"reading": self.reading.build_analyzer(), "words": self.words.build_analyzer(), "coef_t": np.ascontiguousarray(self.clf.coef_.T)}
