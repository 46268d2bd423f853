"""The trained, calibrated risk model (issue 14 §1).

Derived deterministically (fixed seeds) from the labelled content in
`handoff/training/data/`, cached on disk keyed by the data, the lexicon, the embedding model
and this module's MODEL_VERSION, and rebuilt when any of them changes
(`frontdoor triage train` forces it). Three heads share one feature set
(handoff/triage/features.py): the level (none / urgent / emergency), the kind of risk, and
who is at risk (self / other / unknown).

Thresholds come from 5-fold cross-validation over the training data (each message's fold
from a hash of its text, `fold_of`; the out-of-fold probabilities of CV_DRAWS such
assignments averaged), recall first:
the emergency threshold is the highest that keeps out-of-fold emergency recall at
EMERGENCY_RECALL, the urgent one likewise for urgent-or-higher, and the check-in band
starts where at most 1 - CHECK_IN_RECALL of urgent-or-higher messages would go unasked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import sklearn
from scipy import sparse
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.extmath import softmax

from handoff.triage.features import RuleFeatures, ngram_vectorizer
from handoff.triage.kinds import KINDS, SUBJECTS
from handoff.triage.rules import RuleEngine
from handoff.triage.text import EMBED_HEAD_CHARS, MAX_EMBED_CHARS, embedding_text, mask_contacts
from handoff.triage.topic_head import QUESTION_WEIGHT, SPLIT_MODE, TopicHead
from handoff.triage.training import Example, content_hash
from knowledge.cachefile import DerivedOnLoad, read_pickle, write_pickle
from knowledge.embedding import Embedder, cached_embeddings
from knowledge.tfidf import tfidf_rows
from knowledge.tokenize import Analysis, Analyzer, analysis_fingerprint

MODEL_VERSION = "risk-13"
SEED = 20261205
EMERGENCY_RECALL = 0.97
URGENT_RECALL = 0.96
CHECK_IN_RECALL = 0.995
# Fold assignments whose out-of-fold probabilities are averaged before the thresholds are read:
# one draw moved them with two lines of forty thousand (bench/RESULTS.md).
CV_DRAWS = 2
LEVELS = ("none", "urgent", "emergency")
# The embedding block's scale beside unit-length n-gram rows, and the level model's C. With
# the n-grams regularised less (C 4 -> 16) and the embedding as before or more (C·w² 9 -> 4),
# the false alarms on writers the model never saw fell from 9.2% / 8.6% to 6.9% / 6.0%
# (held3 / held4, bench/RESULTS.md 2026-12-06); the blind set's recall held.
EMBED_WEIGHT = 0.5


@dataclass
class Inputs:
    """Everything the approaches read of a batch of messages."""

    norm: list[str]  # the rules' normal form, idioms masked
    vectors: np.ndarray  # one embedding per message
    rule_rows: list[list[int]]  # RuleFeatures columns
    analyses: list[Analysis]  # Sudachi's words and reading (the topic head's own features)

    def take(self, idx: np.ndarray) -> Inputs:
        return Inputs([self.norm[i] for i in idx], self.vectors[idx], [self.rule_rows[i] for i in idx], [self.analyses[i] for i in idx])


def head_matrix(x: Inputs, vectorizer: TfidfVectorizer, features: RuleFeatures, analyze: Callable | None = None) -> sparse.csr_matrix:
    """What the kind, subject and topic heads read, in this order: the embedding, character
    n-grams of the normal form, the rule findings (the topic head takes only the first two,
    `topic_columns`). `analyze`: the vectorizer's analyzer, built once by a loaded model."""
    ngrams = tfidf_rows(vectorizer, x.norm, analyze)
    return sparse.hstack([sparse.csr_matrix(x.vectors * EMBED_WEIGHT), ngrams, features.matrix(x.rule_rows)], format="csr")


def topic_columns(x: Inputs, vectorizer: TfidfVectorizer) -> int:
    """How many of `head_matrix`'s leading columns the topic head reads: the embedding and the
    n-grams, not the rule findings (handoff/triage/topic_head.py says why)."""
    return x.vectors.shape[1] + len(vectorizer.vocabulary_)


def model_text(rules: RuleEngine, text: str) -> str:
    """What the n-grams read: the rules' normal form, idioms masked, contact details masked."""
    return rules.mask(rules.normalize(mask_contacts(text)))


def topic_analyzer() -> Analyzer:
    return Analyzer(SPLIT_MODE)


def prepare_inputs(texts: Sequence[str], vectors: np.ndarray, rules: RuleEngine, features: RuleFeatures, analyzer: Analyzer) -> Inputs:
    """The model's inputs, as Triage.assess builds them for one message: the rules read the
    whole text, the n-grams and the topic head's words only its question (RuleEngine.question)."""
    norm, rows, analyses = [], [], []
    for text in texts:
        findings = rules.evaluate(text)
        rows.append(features.row(findings, rules.frames(text)))
        question = rules.question(text)
        norm.append(model_text(rules, question))
        analyses.append(analyzer.analyze(mask_contacts(question)))
    return Inputs(norm, np.asarray(vectors, dtype=np.float32), rows, analyses)


# ---------------------------------------------------------------------------- approaches


class LinearApproach:
    """Logistic regression over [embedding, character n-grams, rule findings]."""

    name = "linear"

    def __init__(self, features: RuleFeatures, *, c: float = 16.0, seed: int = SEED) -> None:
        self.features = features
        self.c = c
        self.seed = seed

    def _matrix(self, x: Inputs) -> sparse.csr_matrix:
        return head_matrix(x, self.vectorizer, self.features)

    def fit(self, x: Inputs, y: np.ndarray) -> LinearApproach:
        self.vectorizer = ngram_vectorizer().fit(x.norm)
        self.clf = LogisticRegression(C=self.c, max_iter=3000, class_weight="balanced", random_state=self.seed)
        self.clf.fit(self._matrix(x), y)
        return self

    def predict_proba(self, x: Inputs) -> np.ndarray:
        return _full_proba(self.clf, self.clf.predict_proba(self._matrix(x)), len(LEVELS))


class BoostedApproach:
    """Gradient boosting over [embedding, rule findings, out-of-fold n-gram scores]."""

    name = "boosted"

    def __init__(self, features: RuleFeatures, *, seed: int = SEED) -> None:
        self.features = features
        self.seed = seed

    def _ngram_model(self, norm: list[str], y: np.ndarray) -> tuple:
        vec = ngram_vectorizer().fit(norm)
        clf = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced", random_state=self.seed).fit(vec.transform(norm), y)
        return vec, clf

    def _dense(self, x: Inputs, ngram_scores: np.ndarray) -> np.ndarray:
        return np.hstack([x.vectors, self.features.matrix(x.rule_rows).toarray(), ngram_scores])

    def fit(self, x: Inputs, y: np.ndarray) -> BoostedApproach:
        oof = np.zeros((len(y), len(LEVELS)), dtype=np.float32)
        for train, test in StratifiedKFold(4, shuffle=True, random_state=self.seed).split(x.norm, y):
            vec, clf = self._ngram_model([x.norm[i] for i in train], y[train])
            oof[test] = _full_proba(clf, clf.predict_proba(vec.transform([x.norm[i] for i in test])), len(LEVELS))
        self.vec, self.ngram = self._ngram_model(x.norm, y)
        self.clf = HistGradientBoostingClassifier(
            max_iter=300, learning_rate=0.08, class_weight="balanced", random_state=self.seed, early_stopping=False
        ).fit(self._dense(x, oof), y)
        return self

    def predict_proba(self, x: Inputs) -> np.ndarray:
        ngram = _full_proba(self.ngram, self.ngram.predict_proba(self.vec.transform(x.norm)), len(LEVELS))
        return _full_proba(self.clf, self.clf.predict_proba(self._dense(x, ngram)), len(LEVELS))


APPROACHES = {"linear": LinearApproach, "boosted": BoostedApproach}
DEFAULT_APPROACH = "linear"


def _full_proba(clf, proba: np.ndarray, n: int) -> np.ndarray:  # noqa: ANN001
    """Columns for every class index 0..n-1, even those absent from a training fold."""
    out = np.zeros((proba.shape[0], n), dtype=np.float64)
    out[:, clf.classes_.astype(int)] = proba
    return out


# ---------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Thresholds:
    emergency: float  # P(emergency) at or above: emergency
    urgent: float  # P(urgent or emergency) at or above: urgent
    check_in: float  # P(urgent or emergency) at or above (and below `urgent`): ask


def _threshold_for_recall(scores: np.ndarray, recall: float) -> float:
    """The highest threshold t with mean(scores >= t) >= recall."""
    if len(scores) == 0:
        return 0.5
    ordered = np.sort(scores)[::-1]
    k = min(len(ordered) - 1, int(np.ceil(recall * len(ordered))) - 1)
    return float(ordered[max(k, 0)])


def choose_thresholds(proba: np.ndarray, y: np.ndarray) -> Thresholds:
    risk = proba[:, 1] + proba[:, 2]
    em = _threshold_for_recall(proba[y == 2, 2], EMERGENCY_RECALL)
    urg = _threshold_for_recall(risk[y >= 1], URGENT_RECALL)
    check = min(_threshold_for_recall(risk[y >= 1], CHECK_IN_RECALL), urg)
    return Thresholds(emergency=round(em, 4), urgent=round(urg, 4), check_in=round(check, 4))


# ---------------------------------------------------------------------------- the model

# Enough for the first of a tenant's own entries to be among them: the head is trained on both
# tenants' messages, and a Kashiwa message about caring for a parent may score Setagaya's
# care entry first (bot/decide.py takes the first the tenant has).
TOPIC_GUESSES = 6


@dataclass(frozen=True)
class RiskScores:
    proba: tuple[float, float, float]  # none, urgent, emergency
    kind: str | None
    subject: str
    # The knowledge entries the message is most likely about, likeliest first, with their
    # probabilities: over both tenants' entries, so the caller picks the first its tenant has.
    topics: tuple[tuple[str, float], ...] = ()

    @property
    def risk(self) -> float:
        return self.proba[1] + self.proba[2]


@dataclass
class RiskModel(DerivedOnLoad):
    approach: object
    kind_clf: LogisticRegression
    subject_clf: LogisticRegression
    topic_head: TopicHead
    thresholds: Thresholds
    features: RuleFeatures
    key: str
    info: dict = field(default_factory=dict)

    def _head_matrix(self, x: Inputs) -> sparse.csr_matrix:
        return head_matrix(x, self.head_vectorizer, self.features, self.ngram_analyzer)

    def score(self, x: Inputs) -> list[RiskScores]:
        stacked = self.stacked_heads
        heads = self._head_matrix(x)
        if stacked is not None:
            proba, kinds, subjects = stacked.predict(heads)
        else:
            proba = self.approach.predict_proba(x)  # type: ignore[attr-defined]
            kinds = self.kind_clf.predict(heads)
            subjects = self.subject_clf.predict(heads)
        topic_p = self.topic_head.predict_proba(heads, x.analyses)
        ranked = np.argsort(-topic_p, axis=1, kind="stable")[:, :TOPIC_GUESSES]
        classes = self.topic_head.classes_
        return [
            RiskScores(
                (float(p[0]), float(p[1]), float(p[2])), KINDS[int(k)], SUBJECTS[int(s)],
                tuple((str(classes[b]), float(tp[b])) for b in order),
            )
            for p, k, s, order, tp in zip(proba, kinds, subjects, ranked, topic_p, strict=True)
        ]

    @cached_property
    def stacked_heads(self) -> StackedHeads | None:
        return StackedHeads.of(self)

    @cached_property
    def ngram_analyzer(self):  # noqa: ANN201
        return self.head_vectorizer.build_analyzer()  # type: ignore[attr-defined]


class StackedHeads:
    """The linear level model and the kind and subject heads scored as ONE sparse product over
    ONE feature matrix (issue 9: the hot path; the topic head reads more columns and scores
    on its own).

    Why: the level model's n-gram vectorizer and the heads' are fitted on the same texts with
    the same settings, so they are the same transform, yet each decision built the matrix twice
    and ran four scikit-learn predictions whose input validation cost more than the
    arithmetic (bench/decide_profile.py). The product and the softmax are scikit-learn's own
    operations in the same order (each output column is summed independently), so the
    results are bit-identical; `of` returns None, and the caller takes scikit-learn's path,
    whenever that cannot be guaranteed (another approach, a binary head, another vocabulary).
    """

    def __init__(self, clfs: Sequence[LogisticRegression]) -> None:
        self.clfs = list(clfs)
        self.coef_t = np.ascontiguousarray(np.vstack([c.coef_ for c in clfs]).T)
        self.intercept = np.concatenate([c.intercept_ for c in clfs])
        bounds = np.cumsum([0] + [c.coef_.shape[0] for c in clfs])
        self.slices = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    @classmethod
    def of(cls, model: RiskModel) -> StackedHeads | None:
        approach = model.approach
        if not isinstance(approach, LinearApproach):
            return None
        a, b = approach.vectorizer, getattr(model, "head_vectorizer", None)
        if b is None or a.get_params() != b.get_params() or a.vocabulary_ != b.vocabulary_ or not np.array_equal(a.idf_, b.idf_):
            return None
        clfs = [approach.clf, model.kind_clf, model.subject_clf]
        if any(len(c.classes_) < 3 for c in clfs):
            return None  # binary heads take scikit-learn's other formula
        if len({(c.coef_.shape[1], c.coef_.dtype, c.intercept_.dtype) for c in clfs}) != 1:
            return None
        return cls(clfs)

    def predict(self, heads: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(level probabilities, kinds, subjects) as scikit-learn gives them."""
        decision = heads @ self.coef_t + self.intercept
        level, kind, subject = (decision[:, s] for s in self.slices)
        proba = _full_proba(self.clfs[0], softmax(np.array(level), copy=False), len(LEVELS))
        kinds = self.clfs[1].classes_[np.argmax(kind, axis=1)]
        subjects = self.clfs[2].classes_[np.argmax(subject, axis=1)]
        return proba, kinds, subjects


def _labels(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.array([LEVELS.index(e.level) for e in examples])
    kinds = np.array([KINDS.index(e.kind) if e.kind else -1 for e in examples])
    subjects = np.array([SUBJECTS.index(e.subject) for e in examples])
    return y, kinds, subjects


def fold_of(texts: Sequence[str], folds: int, *, draw: int = 0) -> np.ndarray:
    """Each message's cross-validation fold, from a hash of its text alone. With a shuffled
    split the folds followed the files' order: renaming two files (the same messages) moved the
    emergency threshold from 0.255 to 0.266 (bench/RESULTS.md, "The same data in another
    order"), and a new batch reshuffled every old message. Now neither does: a message keeps its
    fold whatever comes before it, and the same text (the rules' normal form) is never on both
    sides of a split."""
    key = str(SEED + draw).encode()
    return np.array([int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8, key=key).digest(), "big") % folds for text in texts])


def cross_validated_proba(approach_name: str, x: Inputs, y: np.ndarray, features: RuleFeatures, folds: int = 5, draws: int = CV_DRAWS) -> np.ndarray:
    """Each message's out-of-fold probabilities, averaged over `draws` fold assignments."""
    oof = np.zeros((len(y), len(LEVELS)))
    for draw in range(draws):
        fold = fold_of(x.norm, folds, draw=draw)
        for k in range(folds):
            train, test = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
            approach = APPROACHES[approach_name](features).fit(x.take(train), y[train])
            oof[test] += approach.predict_proba(x.take(test)) / draws
    return oof


@dataclass(frozen=True)
class TopicQuestions:
    """Labelled questions for the topic head only: their texts' inputs and their entries."""

    x: Inputs
    topics: list[str]


def fit_model(
    examples: Sequence[Example],
    x: Inputs,
    features: RuleFeatures,
    *,
    approach_name: str = DEFAULT_APPROACH,
    key: str = "",
    questions: TopicQuestions | None = None,
) -> RiskModel:
    y, kinds, subjects = _labels(examples)
    oof = cross_validated_proba(approach_name, x, y, features)
    thresholds = choose_thresholds(oof, y)
    approach = APPROACHES[approach_name](features).fit(x, y)
    model = RiskModel(approach, None, None, None, thresholds, features, key)  # type: ignore[arg-type]
    model.head_vectorizer = ngram_vectorizer().fit(x.norm)  # type: ignore[attr-defined]
    heads = model._head_matrix(x)
    # Kind is learnt from every example that names one (traps included: an idiom about
    # dying is still about self-harm); it is only shown for flagged or checked-in messages.
    has_kind = kinds >= 0
    model.kind_clf = LogisticRegression(C=4.0, max_iter=3000, random_state=SEED).fit(heads[has_kind], kinds[has_kind])
    model.subject_clf = LogisticRegression(C=4.0, max_iter=3000, random_state=SEED).fit(heads, subjects)
    # Which service a message is about, learnt from the examples whose writers named one and
    # from the re-ranker's labelled questions: a second opinion beside retrieval for long,
    # mixed messages (bot/decide.py).
    has_topic = [i for i, e in enumerate(examples) if e.topic is not None]
    shared, analyses = heads[has_topic], [x.analyses[i] for i in has_topic]
    topics = [examples[i].topic for i in has_topic]
    weights = np.ones(len(topics))
    if questions is not None and questions.topics:
        shared = sparse.vstack([shared, model._head_matrix(questions.x)], format="csr")
        analyses, topics = [*analyses, *questions.x.analyses], [*topics, *questions.topics]
        weights = np.concatenate([weights, np.full(len(questions.topics), QUESTION_WEIGHT)])
    columns = topic_columns(x, model.head_vectorizer)
    model.topic_head = TopicHead.fit(shared, analyses, topics, weights, shared_columns=columns, seed=SEED)
    model.info = {
        "approach": approach_name,
        "examples": len(examples),
        "thresholds": thresholds.__dict__,
        "cv_emergency_recall": float(np.mean(oof[y == 2, 2] >= thresholds.emergency)),
        "cv_urgent_recall": float(np.mean((oof[y >= 1, 1] + oof[y >= 1, 2]) >= thresholds.urgent)),
        "cv_false_alarms": float(np.mean((oof[y == 0, 1] + oof[y == 0, 2]) >= thresholds.urgent)),
        "cv_check_ins": float(np.mean((oof[y == 0, 1] + oof[y == 0, 2]) >= thresholds.check_in)),
        "topic_questions": len(questions.topics) if questions is not None else 0,
    }
    return model


# ---------------------------------------------------------------------------- cache


def training_vectors(embedder: Embedder, texts: Sequence[str], rules: RuleEngine, cache_dir: Path | None) -> np.ndarray:
    texts = [embedding_text(rules.question(text), rules.emoji) for text in texts]
    # The cache's root, not its triage/ folder: the per-text vector store there is shared with
    # the re-ranker, which learns from the topic-labelled messages among these (knowledge/rerank.py).
    vectors, _ = cached_embeddings(embedder, texts, cache_dir)
    return vectors


def model_key(
    examples: Sequence[Example], rules: RuleEngine, embedder_name: str, approach_name: str, questions: Sequence[tuple[str, str]] = ()
) -> str:
    digest = hashlib.sha256()
    parts = (
        MODEL_VERSION, approach_name, embedder_name, f"embed-chars-{MAX_EMBED_CHARS}-head-{EMBED_HEAD_CHARS}", sklearn.__version__,
        analysis_fingerprint(SPLIT_MODE), content_hash(examples), rules.fingerprint,
    )  # fmt: skip
    for part in (*parts, *(f"{text}\x01{topic}" for text, topic in questions)):
        digest.update(part.encode() + b"\x00")
    return digest.hexdigest()[:20]


def load_or_train(
    examples: Sequence[Example],
    rules: RuleEngine,
    embedder: Embedder,
    cache_dir: Path | None,
    *,
    approach_name: str = DEFAULT_APPROACH,
    force: bool = False,
    questions: Sequence[tuple[str, str]] = (),
) -> RiskModel:
    """The cached model for exactly this data, lexicon, embedder and labelled questions
    ((text, entry id) pairs for the topic head, knowledge.rerank.topic_questions), trained if
    missing."""
    # The same messages in any order are the same model: the folds follow from each text alone
    # (fold_of), and the fit's floating-point sums follow the order of the rows, which moved a
    # threshold in the fourth decimal when the training files were read in reverse.
    examples = sorted(examples, key=lambda e: e.model_dump_json())
    questions = sorted(questions)
    key = model_key(examples, rules, embedder.name, approach_name, questions)
    path = cache_dir / "triage" / f"risk-{key}.pkl" if cache_dir else None
    model = None if force else read_pickle(path, RiskModel)
    if model is not None and model.key == key:
        return model
    features, analyzer = RuleFeatures(rules), topic_analyzer()

    def inputs(texts: list[str]) -> Inputs:
        return prepare_inputs(texts, training_vectors(embedder, texts, rules, cache_dir), rules, features, analyzer)

    asked = TopicQuestions(inputs([text for text, _ in questions]), [topic for _, topic in questions]) if questions else None
    model = fit_model(examples, inputs([e.text for e in examples]), features, approach_name=approach_name, key=key, questions=asked)
    write_pickle(path, model)
    return model
