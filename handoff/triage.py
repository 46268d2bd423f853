"""Rule-based risk triage of one inbound message, run before any answer (issue 4).

Why rules: every inbound message must be scored, offline, in well under a millisecond, and
every decision must be explainable in an audit (`Assessment.signals` holds rule ids, never
the resident's words). The words themselves live in `handoff/lexicon/*.yaml` as data,
validated by the pydantic schema below when `load_triage()` runs.

Sources: Kashiwa 002 §7(1) — urgent cases caught by the chat are connected to face-to-face,
phone or e-mail support; Setagaya 003 §1(2)②キ / ③ケ — emergencies are reported at once;
Setagaya 003 §1(2)⑤ — missing-person intake.

How a message is read:
1. normalise (emoji → words, NFKC, lower case, katakana → hiragana, spaces → 、);
2. mask idioms (死ぬほど暇, 笑い死に, 縄跳び …) so they cannot match;
3. split into clauses on 。！？ and line breaks, contrastive でも/けど/…が — context only
   reaches as far as its own clause (「死にたいわけじゃない。でも縄はもう買ってある」);
4. run every rule; a *soft* rule's match is dropped when its clause negates it right after
   the match, puts it in the past, or frames it as information / media / hypothesis, or
   when a later resolution (今は元気, 見つかった) settles it. A *hard* rule (method, plan,
   time, act: 縄を買った, 薬をためている, 今から, 全部飲んだ) is never dropped that way —
   hard rules can only raise a level;
5. escalations: a self-harm signal plus a plan/time/place cue is an emergency;
6. optionally (`load_triage(semantic=...)`), when the rules say less than emergency, the
   semantic signal (handoff/semantic.py: nearest labelled exemplars in e5 space, per clause
   and whole message) may RAISE the level; it never lowers one. The rules may veto a
   clause's semantic vote only by positively identifying why it is harmless there — an idiom
   they mask, a soft match they drop for negation / past / information, a past or
   information / hypothesis frame, a request to stop or change one of our services
   (電話訪問をやめたい: the words of giving up, about a phone call), or a later resolution
   (`_semantic_veto`). Its evidence
   is the signal id "semantic.urgent" / "semantic.emergency"; a vetoed vote is recorded in
   `suppressed` as "semantic.<level>:<context>";
7. the level is never below `prior` (risk never goes down without a counselor).
"""

from __future__ import annotations

import copy
import re
from bisect import bisect_right
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from handoff.urgency import Urgency

if TYPE_CHECKING:
    from handoff.semantic import SemanticModel

LEXICON_DIR = Path(__file__).parent / "lexicon"

# The closed set of risk kinds, most specific first (used to pick `Assessment.kind` when
# several rules of the same level fire).
KINDS: tuple[str, ...] = (
    "overdose",  # took a lot of medicine / OD now
    "self_harm",  # suicidal thoughts, plans, acts, farewells
    "fire",  # fire, smoke, gas leak
    "violence",  # violence or a threat to life happening now, intruder
    "medical",  # collapsed, not breathing, unresponsive, stroke signs, choking
    "missing_person",  # a person (dementia, elderly, child) has gone missing
    "abuse_dv",  # abuse, DV, stalking, fear of harming one's child
    "basic_needs",  # no food, money, shelter, heating, utilities cut
    "isolation",  # an (elderly) person not reachable for days
    "worried_about_other",  # a neighbour / relative worried someone is not OK
)
Kind = Literal[
    "overdose", "self_harm", "fire", "violence", "medical", "missing_person",
    "abuse_dv", "basic_needs", "isolation", "worried_about_other",
]
SELF_HARM_KINDS = frozenset({"self_harm", "overdose"})

# Kashiwa situation categories for the monthly report (Kashiwa 002 §8: 実績報告).
REPORT_CATEGORIES: tuple[str, ...] = ("高齢", "障害", "子ども・子育て", "生活困窮", "こころ", "複合", "その他")
_SINGLE_CATEGORIES = REPORT_CATEGORIES[:5]
Context = Literal["negation", "past", "info", "resolved"]

# ---------------------------------------------------------------------------- schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    level: Literal["urgent", "emergency"]
    kind: Kind
    hard: bool = False  # method / plan / time / act: no context can drop it
    patterns: list[str] = Field(min_length=1)
    unless: list[str] = []  # clause-level exclusions (e.g. 木が倒れた)
    requires: list[str] = []  # at least one must occur somewhere in the message
    ignore: list[Context] = []  # soft-rule contexts that do NOT drop this rule
    examples: list[str] = []  # must fire (checked by tests)
    counterexamples: list[str] = []  # must not fire (checked by tests)

    @model_validator(mode="after")
    def _hard_has_no_ignore(self) -> RuleSpec:
        if self.hard and self.ignore:
            raise ValueError(f"{self.id}: a hard rule ignores every context already")
        return self


class Escalation(_Strict):
    id: str = Field(pattern=r"^escalate\.[a-z0-9_]+$")
    when_kinds: list[Kind] = Field(min_length=1)
    cues: list[str] = Field(min_length=1)
    to_kind: Kind


class RulesFile(_Strict):
    macros: dict[str, str] = {}
    rules: list[RuleSpec] = Field(min_length=1)
    escalations: list[Escalation] = []

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[RuleSpec]) -> list[RuleSpec]:
        ids = [r.id for r in rules]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate rule ids: {sorted(dupes)}")
        return rules


class Cue(_Strict):
    pattern: str
    kinds: list[Kind] = []  # empty: applies to every kind
    except_kinds: list[Kind] = []


class ContextFile(_Strict):
    emoji: dict[str, str] = {}
    idioms: list[str] = []
    clause_breaks: list[str] = Field(min_length=1)
    negation: list[str] = Field(min_length=1)  # anchored right after a match
    past: list[Cue] = []
    info: list[Cue] = []
    resolved: list[Cue] = []
    service: list[Cue] = []  # a request about one of our services (semantic veto only)


class CategoriesFile(_Strict):
    cues: dict[str, list[str]]
    kind_defaults: dict[Kind, str] = {}

    @model_validator(mode="after")
    def _known_categories(self) -> CategoriesFile:
        bad = (set(self.cues) | set(self.kind_defaults.values())) - set(_SINGLE_CATEGORIES)
        if bad:
            raise ValueError(f"unknown report categories: {sorted(bad)}")
        return self


# ---------------------------------------------------------------------------- text


_KATAKANA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}
_SPACES = re.compile(r"\s+")
_LONG = re.compile(r"[ー〜~～]+")
# A stretched hiragana word (死にた〜い, しにたーい) loses its stretch; katakana keeps its ー
# (ロープ), because this runs before katakana becomes hiragana.
_STRETCH = re.compile(r"(?<=[ぁ-ゖ])[ー〜~～]+(?=[ぁ-ゖ])")
_REPEAT = re.compile(r"(.)\1{2,}")


def normalize(text: str, emoji: dict[str, str] | None = None) -> str:
    """NFKC, lower case, katakana → hiragana, spaces → 、 (a soft break), 〜 → ー."""
    if emoji:
        for symbol, word in emoji.items():
            if symbol in text:
                text = text.replace(symbol, word)
    text = _STRETCH.sub("", unicodedata.normalize("NFKC", text).lower()).translate(_KATAKANA)
    text = _SPACES.sub("、", text.strip())
    text = _LONG.sub("ー", text)
    return _REPEAT.sub(r"\1\1", text)


def _compile(pattern: str, macros: dict[str, str], where: str) -> re.Pattern[str]:
    for name, fragment in macros.items():
        pattern = pattern.replace("@{" + name + "}", f"(?:{fragment})")
    # Messages hold no spaces (they become 、), so patterns hold none either; this lets
    # YAML fold long alternations over lines.
    pattern = _SPACES.sub("", pattern)
    if "@{" in pattern:
        raise ValueError(f"{where}: unknown macro in {pattern!r}")
    # Patterns go through the same normalisation as messages (ロープ → ろーぷ), minus the
    # space handling: patterns hold no spaces.
    pattern = unicodedata.normalize("NFKC", pattern).lower().translate(_KATAKANA)
    pattern = _LONG.sub("ー", pattern)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{where}: bad regex {pattern!r}: {exc}") from exc


# ---------------------------------------------------------------------------- result


@dataclass(frozen=True, slots=True)
class Assessment:
    level: Urgency  # never below the prior passed in
    kind: str | None  # one of KINDS, from this message's strongest signal
    self_harm: bool
    missing_person: bool
    signals: tuple[str, ...]  # ids of rules that fired (audit; never resident text)
    report_category: str  # one of REPORT_CATEGORIES
    suppressed: tuple[str, ...] = ()  # "rule_id:context" for matches dropped by context


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    level: Urgency
    kind: str
    hard: bool
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    requires: tuple[re.Pattern[str], ...]
    ignore: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Cue:
    pattern: re.Pattern[str]
    kinds: frozenset[str]
    except_kinds: frozenset[str]

    def applies(self, kind: str) -> bool:
        return (not self.kinds or kind in self.kinds) and kind not in self.except_kinds


class Triage:
    """Compiled lexicon; `assess` is pure and thread-safe."""

    def __init__(self, rules: RulesFile, context: ContextFile, categories: CategoriesFile) -> None:
        m = rules.macros
        self.specs = rules.rules
        self._rules = tuple(
            _Rule(
                id=r.id,
                level=Urgency(r.level),
                kind=r.kind,
                hard=r.hard,
                patterns=tuple(_compile(p, m, r.id) for p in r.patterns),
                unless=tuple(_compile(p, m, r.id) for p in r.unless),
                requires=tuple(_compile(p, m, r.id) for p in r.requires),
                ignore=frozenset(r.ignore),
            )
            for r in rules.rules
        )
        self._escalations = tuple(
            (e.id, frozenset(e.when_kinds), tuple(_compile(c, m, e.id) for c in e.cues), e.to_kind)
            for e in rules.escalations
        )
        self._emoji = context.emoji
        self._idioms = tuple(_compile(p, m, "idioms") for p in context.idioms)
        self._breaks = _compile("|".join(f"(?:{b})" for b in context.clause_breaks), m, "clause_breaks")
        self._negation = _compile("|".join(f"(?:{n})" for n in context.negation), m, "negation")

        def cues(items: list[Cue], where: str) -> tuple[_Cue, ...]:
            return tuple(
                _Cue(_compile(c.pattern, m, where), frozenset(c.kinds), frozenset(c.except_kinds)) for c in items
            )

        self._past = cues(context.past, "past")
        self._info = cues(context.info, "info")
        self._resolved = cues(context.resolved, "resolved")
        self._service = cues(context.service, "service")
        self._categories = tuple(
            (name, _compile("|".join(f"(?:{p})" for p in pats), m, name)) for name, pats in categories.cues.items()
        )
        self._kind_category = dict(categories.kind_defaults)
        self.semantic: SemanticModel | None = None

    def with_semantic(self, semantic: SemanticModel | None) -> Triage:
        """A copy sharing these compiled rules, with the semantic signal attached."""
        other = copy.copy(self)
        other.semantic = semantic
        return other

    @property
    def emoji(self) -> dict[str, str]:
        return dict(self._emoji)

    # -- helpers --------------------------------------------------------------

    def normalize(self, text: str) -> str:
        return normalize(text, self._emoji)

    def _mask(self, text: str) -> str:
        for idiom in self._idioms:
            text = idiom.sub(lambda mt: "□" * len(mt.group()), text)
        return text

    def _clauses(self, text: str) -> list[tuple[int, int]]:
        spans, start = [], 0
        for mt in self._breaks.finditer(text):
            spans.append((start, mt.start()))
            start = mt.end()
        spans.append((start, len(text)))
        return spans

    def _context(self, rule: _Rule, text: str, start: int, end: int, clause: tuple[int, int]) -> str | None:
        """Why a soft match is dropped ("negation", "past", "info", "resolved"), or None."""
        c0, c1 = clause
        if "negation" not in rule.ignore and self._negation.match(text, end, c1):
            return "negation"
        clause_text = text[c0:c1]
        if "past" not in rule.ignore and any(c.applies(rule.kind) and c.pattern.search(clause_text) for c in self._past):
            return "past"
        if "info" not in rule.ignore and any(c.applies(rule.kind) and c.pattern.search(clause_text) for c in self._info):
            return "info"
        if "resolved" not in rule.ignore and any(
            c.applies(rule.kind) and c.pattern.search(text, end) for c in self._resolved
        ):
            return "resolved"
        return None

    def _fires(self, rule: _Rule, norm: str, raw: str, clauses: list[tuple[int, int]]) -> str | None:
        """None when the rule fires; otherwise why its last match was dropped ("" = no match).

        `unless` looks at the unmasked text (`raw`, same offsets): 縄跳びの縄 is still a 縄跳び."""
        reason = ""
        starts = [c[0] for c in clauses]
        for pattern in rule.patterns:
            for mt in pattern.finditer(norm):
                clause = clauses[bisect_right(starts, mt.start()) - 1]
                if any(u.search(raw, clause[0], clause[1]) for u in rule.unless):
                    continue
                if rule.hard:
                    return None
                why = self._context(rule, norm, mt.start(), mt.end(), clause)
                if why is None:
                    return None
                reason = why
        return reason

    def _semantic_veto(self, piece: str) -> str | None:
        """Why the rules positively rule this piece out for a soft semantic vote, or None.

        Only positive identifications count (an idiom masked, a soft rule dropped for its
        context, a past or information / hypothesis frame); kind restrictions of the cues
        are ignored because the semantic vote has no kind."""
        raw = self.normalize(piece)
        norm = self._mask(raw)
        if norm != raw:
            return "idiom"
        clauses = self._clauses(norm)
        reasons = []
        for rule in self._rules:
            if rule.requires and not any(p.search(norm) for p in rule.requires):
                continue
            reason = self._fires(rule, norm, raw, clauses)
            if reason is None:
                return None  # a rule fires here: nothing to veto
            if reason:
                reasons.append(reason)
        if reasons:
            return reasons[0]
        if any(c.pattern.search(norm) for c in self._past):
            return "past"
        if any(c.pattern.search(norm) for c in self._info):
            return "info"
        if any(c.pattern.search(norm) for c in self._service):
            return "service"
        return None

    def _resolves(self, piece: str) -> bool:
        norm = self._mask(self.normalize(piece))
        return any(c.pattern.search(norm) for c in self._resolved)

    # -- the one public operation --------------------------------------------

    def assess(self, text: str, *, prior: Urgency = Urgency.NONE, prior_kind: str | None = None) -> Assessment:
        """Score one message. `prior` is the conversation's level so far; `prior_kind` its kind
        (a self-harm conversation turns a later "今夜やる" into an emergency)."""
        raw = self.normalize(text)
        norm = self._mask(raw)
        clauses = self._clauses(norm)
        fired: list[_Rule] = []
        suppressed: list[str] = []
        for rule in self._rules:
            if rule.requires and not any(p.search(norm) for p in rule.requires):
                continue
            reason = self._fires(rule, norm, raw, clauses)
            if reason is None:
                fired.append(rule)
            elif reason:
                suppressed.append(f"{rule.id}:{reason}")
        kinds = {r.kind for r in fired}
        if prior_kind:
            kinds_for_escalation = kinds | {prior_kind}
        else:
            kinds_for_escalation = kinds
        escalated: list[tuple[str, str]] = []
        for esc_id, when, cue_patterns, to_kind in self._escalations:
            if when & kinds_for_escalation and any(p.search(norm) for p in cue_patterns):
                escalated.append((esc_id, to_kind))

        level = Urgency.max(prior, *(r.level for r in fired), *(Urgency.EMERGENCY for _ in escalated))
        kind = self._pick_kind(fired, escalated)
        all_kinds = kinds | {k for _, k in escalated}
        signals = [r.id for r in fired] + [e for e, _ in escalated]
        if self.semantic is not None and level < Urgency.EMERGENCY:
            # Consulted only when it could raise the level; it never lowers one.
            sem = self.semantic.score(text, self._semantic_veto, resolved=self._resolves)
            if sem.level > Urgency.NONE:
                signals.append(f"semantic.{sem.level}")
                level = Urgency.max(level, sem.level)
            suppressed += [f"semantic.{sem.raw_level}:{why}" for why in sem.vetoes]
        signals = tuple(dict.fromkeys(signals))
        return Assessment(
            level=level,
            kind=kind,
            self_harm=bool(all_kinds & SELF_HARM_KINDS),
            missing_person="missing_person" in all_kinds,
            signals=signals,
            report_category=self._report_category(norm, all_kinds),
            suppressed=tuple(suppressed),
        )

    @staticmethod
    def _pick_kind(fired: list[_Rule], escalated: list[tuple[str, str]]) -> str | None:
        if escalated:
            return min((k for _, k in escalated), key=KINDS.index)
        if not fired:
            return None
        top = max(r.level.rank for r in fired)
        return min((r.kind for r in fired if r.level.rank == top), key=KINDS.index)

    def _report_category(self, norm: str, kinds: set[str]) -> str:
        found = {name for name, pattern in self._categories if pattern.search(norm)}
        found |= {self._kind_category[k] for k in kinds if k in self._kind_category}
        if len(found) > 1:
            return "複合"
        return found.pop() if found else "その他"


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys (a second `examples:` silently wins otherwise)."""

    def construct_mapping(self, node, deep=False):  # noqa: ANN001, ANN201, D102
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise ValueError(f"duplicate keys {sorted(map(str, dupes))} at {node.start_mark}")
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> object:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def _read(name: str, model: type[BaseModel], directory: Path) -> BaseModel:
    return model.model_validate(read_yaml(directory / name))


def load_triage(directory: Path | None = None, *, semantic: SemanticModel | None = None) -> Triage:
    """Load and validate the lexicon (raises pydantic.ValidationError / ValueError on bad data).

    Without `semantic` this is the rules alone (cached; fast unit tests); with it, a copy of
    the rules that also consults the semantic signal (built by `handoff.semantic.SemanticModel.build`)."""
    triage = _default_triage() if directory is None else _build(directory)
    return triage if semantic is None else triage.with_semantic(semantic)


def _build(directory: Path) -> Triage:
    return Triage(
        _read("rules.yaml", RulesFile, directory),  # type: ignore[arg-type]
        _read("context.yaml", ContextFile, directory),  # type: ignore[arg-type]
        _read("categories.yaml", CategoriesFile, directory),  # type: ignore[arg-type]
    )


@lru_cache(maxsize=1)
def _default_triage() -> Triage:
    return _build(LEXICON_DIR)
