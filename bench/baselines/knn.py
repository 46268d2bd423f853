"""The issue-4 semantic triage signal, kept as the baseline the trained model is compared with
(bench/triage_approaches.py): k nearest labelled exemplars in e5 embedding space.

Why: the rules (handoff/triage/rules.py) score 1.0 on the messages they were tuned on but miss
new wordings — a verb they do not list (うずくまって動けない), a dropped particle, dialect.
A sentence embedding places 「じいじが道ばたでうずくまって動かへん」 next to the labelled
emergencies it resembles even when no rule word is present.

How a message is read:
1. NFKC with the lexicon's emoji words; split into clauses on 。！？!? and line breaks, and
   long clauses again at 、 / spaces, so danger in one clause of a long, rambling message is
   not averaged away; the whole message is embedded too (one batched embed call);
2. each piece takes its `k` nearest exemplars (the labelled training set plus
   `bench/baselines/exemplars.yaml`), weighted by softmax(cosine / temperature); the piece votes
   emergency when the emergency share is ≥ `emergency`, urgent when the urgent-or-higher
   share is ≥ `urgent`, and only when its nearest exemplar is at least `min_similarity`;
3. the rules may veto a piece (see `RuleEngine.veto`): when they positively identify
   an idiom, a negated / past / informational / hypothetical frame, or a later resolution
   in that piece, its soft semantic vote is dropped. The whole-message vote is dropped when
   any piece was vetoed (its meaning then rests on the clauses that were not).
   The signal can only RAISE the rules' level: a hard rule is never lowered by it.

Thresholds come from 5-fold cross-validation over the bank itself (`cross_validate`,
the issue-4 calibration run, since removed), never from the blind hold-out; they live in
`bench/baselines/exemplars.yaml` as data. Exemplar vectors are cached on disk with the knowledge
index's mechanism (knowledge.embedding.cached_embeddings) in `cache_dir/triage/`, so a
restart does not re-embed and `kb reindex` pruning never touches them.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from handoff.triage.lexicon import require_unique
from handoff.urgency import Urgency
from knowledge.embedding import Embedder, cached_embeddings, load_embedder

log = logging.getLogger(__name__)

LEXICON_DIR = Path(__file__).resolve().parents[2] / "handoff" / "lexicon"
EXEMPLARS_FILE = Path(__file__).with_name("exemplars.yaml")
# The labelled set (the rules' regression floor) is part of the bank too.
TRAINING_CASES = LEXICON_DIR / "labelled_messages.yaml"

_BREAKS = re.compile(r"[。!?！？\n]+")
_SOFT = re.compile(r"[、,，\s]+")
LONG_CLAUSE = 20  # characters: a longer clause is split again at 、 and spaces
MIN_PIECE = 6  # shorter fragments are merged with their neighbour
MAX_PIECES = 3  # clauses embedded per message: the latency cap
WHOLE_MAX = 60  # characters: a longer multi-clause message is judged by its clauses alone
WHOLE = "\x00"  # marks the whole-message item (never embedded: see _text)


def _text(item: str) -> str:
    return item.removeprefix(WHOLE)


# ---------------------------------------------------------------------------- schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exemplar(_Strict):
    text: str = Field(min_length=1)
    level: Literal["none", "urgent", "emergency"]
    note: str = ""


class Calibration(_Strict):
    """Measured by `cross_validate` on the bank (5 folds); see bench/RESULTS.md."""

    k: int = Field(ge=1, le=50)
    temperature: float = Field(gt=0)
    emergency: float = Field(gt=0, le=1)  # weighted emergency share of the k neighbours
    urgent: float = Field(gt=0, le=1)  # weighted urgent-or-higher share
    min_similarity: float = Field(ge=0, le=1)  # nearest exemplar at least this close


class ExemplarsFile(_Strict):
    calibration: Calibration
    exemplars: list[Exemplar] = Field(min_length=1)

    @field_validator("exemplars")
    @classmethod
    def _unique(cls, items: list[Exemplar]) -> list[Exemplar]:
        require_unique([e.text for e in items], "exemplars")
        return items


# ---------------------------------------------------------------------------- text


def prepare(text: str, emoji: dict[str, str] | None = None) -> str:
    """What is embedded: NFKC, emoji as words; kana and kanji stay as written (the model
    was trained on natural text, not on the rules' katakana → hiragana form)."""
    for symbol, word in (emoji or {}).items():
        if symbol in text:
            text = text.replace(symbol, word)
    return unicodedata.normalize("NFKC", text).strip()


def split_pieces(text: str) -> list[str]:
    """Clauses of a prepared message, long ones split again at 、 and spaces, tiny
    fragments merged, at most MAX_PIECES (adjacent pieces joined beyond that)."""
    pieces: list[str] = []
    for clause in _BREAKS.split(text):
        clause = clause.strip(" 、,")
        if not clause:
            continue
        if len(clause) <= LONG_CLAUSE:
            pieces.append(clause)
            continue
        buf = ""
        for frag in _SOFT.split(clause):
            if not frag:
                continue
            buf = f"{buf}、{frag}" if buf else frag
            if len(buf) >= MIN_PIECE:
                pieces.append(buf)
                buf = ""
        if buf:
            if pieces and len(buf) < MIN_PIECE:
                pieces[-1] = f"{pieces[-1]}、{buf}"
            else:
                pieces.append(buf)
    # merge tiny pieces (たすけて is 4 characters and still a clause: keep ≥ 2)
    pieces = [p for p in pieces if len(p) >= 2] or ([text] if text else [])
    while len(pieces) > MAX_PIECES:
        i = min(range(len(pieces) - 1), key=lambda j: len(pieces[j]) + len(pieces[j + 1]))
        pieces[i : i + 2] = [f"{pieces[i]}、{pieces[i + 1]}"]
    return pieces


# ---------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class PieceVote:
    level: Urgency
    emergency_share: float
    positive_share: float
    nearest: float


@dataclass(frozen=True, slots=True)
class SemanticResult:
    level: Urgency  # after vetoes
    raw_level: Urgency  # before vetoes
    vetoes: tuple[str, ...]  # contexts that dropped a vote ("past", "idiom", …)


_LEVEL_CODE = {"none": 0, "urgent": 1, "emergency": 2}


class SemanticModel:
    """A kNN risk scorer over a fixed, embedded exemplar bank; `score` is thread-safe."""

    def __init__(
        self,
        embedder: Embedder,
        texts: Sequence[str],
        levels: Sequence[str],
        vectors: np.ndarray,
        calibration: Calibration,
        *,
        emoji: dict[str, str] | None = None,
    ) -> None:
        if vectors.shape[0] != len(texts) or len(texts) != len(levels):
            raise ValueError("exemplar texts, levels and vectors differ in length")
        self.embedder = embedder
        self.texts = tuple(texts)
        self.codes = np.array([_LEVEL_CODE[lv] for lv in levels], dtype=np.int8)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.calibration = calibration
        self.emoji = dict(emoji or {})

    # -- building ---------------------------------------------------------------

    @classmethod
    def build(
        cls,
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
        *,
        exemplars_file: Path = EXEMPLARS_FILE,
        training_cases: Path | None = TRAINING_CASES,
        emoji: dict[str, str] | None = None,
        calibration: Calibration | None = None,
    ) -> SemanticModel:
        """Load and validate the bank, embed it (or read the vectors from `cache_dir`)."""
        from handoff.triage.lexicon import ContextFile, read_yaml  # the rules' emoji words and YAML reader

        data = ExemplarsFile.model_validate(read_yaml(exemplars_file))
        bank = [(e.text, e.level) for e in data.exemplars]
        if training_cases is not None:
            bank += [(str(c["text"]), str(c["level"])) for c in read_yaml(training_cases)]  # type: ignore[union-attr]
        bank = list(dict.fromkeys(bank))
        if emoji is None:
            emoji = ContextFile.model_validate(read_yaml(LEXICON_DIR / "context.yaml")).emoji
        embedder = embedder or load_embedder()
        texts = [prepare(t, emoji) for t, _ in bank]
        vectors, _ = cached_embeddings(embedder, texts, cache_dir / "triage" if cache_dir else None)
        return cls(embedder, texts, [lv for _, lv in bank], vectors, calibration or data.calibration, emoji=emoji)

    # -- scoring ----------------------------------------------------------------

    def pieces(self, text: str) -> tuple[list[str], str]:
        prepared = prepare(text, self.emoji)
        return split_pieces(prepared), prepared

    def embed_items(self, text: str) -> list[str]:
        """What one message embeds as: its clauses, then the whole message when there are
        several and it is short enough (WHOLE_MAX) — the last item is then `WHOLE + text`."""
        pieces, whole = self.pieces(text)
        if not pieces:
            return []
        return pieces if len(pieces) == 1 or len(whole) > WHOLE_MAX else [*pieces, WHOLE + whole]

    def embed_pieces(self, text: str) -> tuple[list[str], np.ndarray]:
        """`embed_items` and their vectors, in one embed call."""
        items = self.embed_items(text)
        if not items:
            return [], np.zeros((0, self.vectors.shape[1]), dtype=np.float32)
        return items, self.embedder.embed([_text(i) for i in items])

    def votes(self, queries: np.ndarray, *, exclude: np.ndarray | None = None) -> list[PieceVote]:
        """One vote per query vector. `exclude` masks bank rows out (cross-validation)."""
        c = self.calibration
        sims = queries @ self.vectors.T
        if exclude is not None:
            sims[:, exclude] = -1.0
        k = min(c.k, sims.shape[1])
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        out = []
        for row, idx in zip(sims, top, strict=True):
            s = row[idx]
            w = np.exp((s - s.max()) / c.temperature)
            w /= w.sum()
            codes = self.codes[idx]
            em = float(w[codes == 2].sum())
            pos = float(w[codes >= 1].sum())
            nearest = float(s.max())
            level = Urgency.NONE
            if nearest >= c.min_similarity:
                if em >= c.emergency:
                    level = Urgency.EMERGENCY
                elif pos >= c.urgent:
                    level = Urgency.URGENT
            out.append(PieceVote(level, em, pos, nearest))
        return out

    def score(
        self,
        text: str,
        veto: Callable[[str], str | None] | None = None,
        *,
        resolved: Callable[[str], bool] | None = None,
    ) -> SemanticResult:
        """The semantic level of one message. `veto(piece)` returns why the rules rule that
        piece out ("idiom", "negation", "past", "info") or None; `resolved(piece)` says a
        piece settles what came before it (見つかった, 今は元気) — earlier pieces are dropped."""
        items, vectors = self.embed_pieces(text)
        if not items:
            return SemanticResult(Urgency.NONE, Urgency.NONE, ())
        return self.combine(items, self.votes(vectors), veto, resolved)

    @staticmethod
    def combine(
        items: list[str],
        votes: list[PieceVote],
        veto: Callable[[str], str | None] | None,
        resolved: Callable[[str], bool] | None,
    ) -> SemanticResult:
        has_whole = items[-1].startswith(WHOLE)
        n_pieces = len(items) - 1 if has_whole else len(items)
        reasons: list[str | None] = [veto(p) if veto else None for p in items[:n_pieces]]
        if resolved is not None:
            # a resolution settles its own piece and every earlier one
            last = max((i for i in range(n_pieces) if resolved(items[i])), default=-1)
            reasons = ["resolved" if i <= last and r is None else r for i, r in enumerate(reasons)]
        if has_whole:
            reasons.append(next((r for r in reasons if r), None))
        raw = Urgency.max(*(v.level for v in votes))
        kept = Urgency.max(*(v.level for v, r in zip(votes, reasons, strict=True) if r is None))
        dropped = tuple(dict.fromkeys(r for v, r in zip(votes, reasons, strict=True) if r and v.level > kept))
        return SemanticResult(kept, raw, dropped)


# ---------------------------------------------------------------------------- calibration


def embed_bank_pieces(model: SemanticModel, cache_dir: Path | None) -> tuple[list[list[str]], np.ndarray]:
    """Every bank message's pieces and their vectors (for cross-validation)."""
    all_items = [model.embed_items(t) for t in model.texts]
    flat = [_text(p) for items in all_items for p in items]
    vectors, _ = cached_embeddings(model.embedder, flat, cache_dir / "triage" if cache_dir else None)
    return all_items, vectors


@dataclass(frozen=True)
class FoldScores:
    emergency_recall: float
    positive_recall: float
    false_alarms: float


def cross_validate(
    model: SemanticModel,
    *,
    folds: int = 5,
    veto: Callable[[str], str | None] | None = None,
    resolved: Callable[[str], bool] | None = None,
    seed: int = 7,
    cache_dir: Path | None = None,
    embedded: tuple[list[list[str]], np.ndarray] | None = None,
) -> tuple[FoldScores, list[tuple[int, Urgency]]]:
    """Semantic-only scores on the bank, each message scored against the other folds.

    Pieces of every bank message are embedded once (cached like the bank, or passed in as
    `embedded` from `embed_bank_pieces` when sweeping calibrations)."""
    n = len(model.texts)
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(n) % folds
    all_items, flat_vectors = embedded or embed_bank_pieces(model, cache_dir)
    results: list[tuple[int, Urgency]] = []
    row = 0
    for i, items in enumerate(all_items):
        q = flat_vectors[row : row + len(items)]
        row += len(items)
        exclude = np.flatnonzero(fold_of == fold_of[i])
        votes = model.votes(q.copy(), exclude=exclude)
        results.append((int(model.codes[i]), SemanticModel.combine(items, votes, veto, resolved).level))
    em = [g for w, g in results if w == 2]
    pos = [g for w, g in results if w >= 1]
    neg = [g for w, g in results if w == 0]
    return (
        FoldScores(
            sum(g == Urgency.EMERGENCY for g in em) / max(len(em), 1),
            sum(g >= Urgency.URGENT for g in pos) / max(len(pos), 1),
            sum(g >= Urgency.URGENT for g in neg) / max(len(neg), 1),
        ),
        results,
    )
