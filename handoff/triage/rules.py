"""The rule engine: the lexicon's regular expressions, read clause by clause.

Since issue 14 the rules are a *floor and a feature*, not the decision: hard rules (method,
plan, time, act: 縄を買った, 今から, 全部飲んだ) and escalations raise the level and nothing
lowers them; soft rules and their dropped contexts become features of the trained model.
Every finding is a rule id, never the resident's words (audit).

How a message is read:
1. normalise (emoji → words, NFKC, lower case, katakana → hiragana, spaces → 、);
2. mask idioms (死ぬほど暇, 笑い死に, 縄跳び …) so they cannot match;
3. split into clauses on 。！？ and line breaks, contrastive でも/けど/…が — context only
   reaches as far as its own clause (「死にたいわけじゃない。でも縄はもう買ってある」);
4. run every rule; a *soft* rule's match is dropped when its clause negates it right after
   the match, puts it in the past, or frames it as information / media / hypothesis, or
   when a later resolution (今は元気, 見つかった) settles it. A hard rule is never dropped;
5. escalations: a self-harm signal plus a plan/time/place cue is an emergency.
"""

from __future__ import annotations

import hashlib

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from handoff.triage.kinds import KINDS, SELF_HARM_KINDS
from handoff.triage.lexicon import LEXICON_DIR, Cue, Lexicon, load_lexicon
from handoff.triage.text import compile_pattern, normalize
from handoff.urgency import Urgency

# Where an opener may end: at a break, or right after the word that closes it (「…あるんですが
# でんわほうもんの」「相談したいことがあって電話しました」「相談です家賃が」), never inside a word
# (「相談員と話したい」 keeps its 相談).
_SEPARATORS = " \t\n\u3000、。，,.．!！?？…・:："
_OPENER_END = re.compile(f"[{re.escape(_SEPARATORS)}]+|(?<=[がどてす])")
OPENER_REACH = 48  # characters: the longest opener (「すみません、ちょっとお聞きしたいことがあるのですが」) and more


@dataclass(frozen=True, slots=True)
class RuleFindings:
    level: Urgency  # every rule that fired, soft and hard (the rules-only decision)
    floor: Urgency  # hard rules and escalations only: what no model may go below
    kind: str | None  # the kind of the strongest finding
    floor_kind: str | None
    kinds: frozenset[str]
    fired: tuple[str, ...]  # rule and escalation ids
    hard: tuple[str, ...]  # the subset that sets the floor
    suppressed: tuple[str, ...]  # "rule_id:context" for soft matches dropped by context
    category_cues: frozenset[str]  # report categories the text names (介護, 子ども …)
    report_category: str

    @property
    def self_harm(self) -> bool:
        return bool(self.kinds & SELF_HARM_KINDS)


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    level: Urgency
    kind: str
    hard: bool
    floor: bool  # soft, but sets the floor when its context lets it fire
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


class RuleEngine:
    """Compiled lexicon; `evaluate` is pure and thread-safe."""

    def __init__(self, lexicon: Lexicon) -> None:
        rules, context, categories = lexicon.rules, lexicon.context, lexicon.categories
        m = rules.macros
        self.specs = rules.rules
        self._rules = tuple(
            _Rule(
                id=r.id,
                level=Urgency(r.level),
                kind=r.kind,
                hard=r.hard,
                floor=r.floor,
                patterns=tuple(compile_pattern(p, m, r.id) for p in r.patterns),
                unless=tuple(compile_pattern(p, m, r.id) for p in r.unless),
                requires=tuple(compile_pattern(p, m, r.id) for p in r.requires),
                ignore=frozenset(r.ignore),
            )
            for r in rules.rules
        )
        self.rule_ids: tuple[str, ...] = tuple(r.id for r in self._rules) + tuple(e.id for e in rules.escalations)
        # What the risk model's cache is keyed by: the rules' findings and the masked text are
        # its features, so a changed pattern must retrain it, not only a changed rule id.
        self.fingerprint = hashlib.sha256(lexicon.model_dump_json().encode("utf-8")).hexdigest()[:16]
        self._escalations = tuple(
            (e.id, frozenset(e.when_kinds), tuple(compile_pattern(c, m, e.id) for c in e.cues), e.to_kind)
            for e in rules.escalations
        )
        self.emoji: dict[str, str] = dict(context.emoji)
        self._idioms = tuple(compile_pattern(p, m, "idioms") for p in context.idioms)
        self._breaks = compile_pattern("|".join(f"(?:{b})" for b in context.clause_breaks), m, "clause_breaks")
        self._negation = compile_pattern("|".join(f"(?:{n})" for n in context.negation), m, "negation")
        self._courtesy = compile_pattern("|".join(f"(?:{c})" for c in context.courtesies), m, "courtesies") if context.courtesies else None
        self._opener = compile_pattern("|".join(f"(?:{c})" for c in context.openers), m, "openers") if context.openers else None

        def cues(items: list[Cue], where: str) -> tuple[_Cue, ...]:
            return tuple(
                _Cue(compile_pattern(c.pattern, m, where), frozenset(c.kinds), frozenset(c.except_kinds)) for c in items
            )

        self._past = cues(context.past, "past")
        self._info = cues(context.info, "info")
        self._resolved = cues(context.resolved, "resolved")
        self._service = cues(context.service, "service")
        self._categories = tuple(
            (name, compile_pattern("|".join(f"(?:{p})" for p in pats), m, name)) for name, pats in categories.cues.items()
        )
        self._kind_category = dict(categories.kind_defaults)

    # -- text ------------------------------------------------------------------

    def normalize(self, text: str) -> str:
        return normalize(text, self.emoji)

    def courtesy_only(self, text: str) -> bool:
        """The whole message is a thank-you, an acknowledgement or an opener that only announces
        a question (「ありがとう」「わかりました」「質問いいですか」), punctuation and emoji aside: it
        carries no risk of its own. A farewell with more to it (「みなさん今までありがとう」) is not one."""
        return self._whole(self._courtesy, text) or self.opener_only(text)

    def opener_only(self, text: str) -> bool:
        """The whole message only announces a question (「きいてみたいことがある」「相談があるんですが」):
        the resident has not said what about yet."""
        return self._whole(self._opener, text)

    def question(self, text: str) -> str:
        """The message without a leading opener that only announces it (「ききたいことがあるん
        ですが、でんわほうもんの よびを かえたいです」 → 「でんわほうもんの よびを かえたいです」): what
        the risk model and its topic head read. The opener's words (聞く, 相談, ある) say nothing
        about the need, yet they pulled the topic head toward the applying entries. A message
        that is only an opener is returned whole; the rules always read the whole message."""
        if self._opener is None or not self._opener.match(self._bare(text[:OPENER_REACH])) or self.opener_only(text):
            return text  # most messages: no opener at the start, one regex match and done
        cut = 0
        for mt in _OPENER_END.finditer(text, 0, OPENER_REACH):
            if self.opener_only(text[: mt.start()]):
                cut = mt.end()
        rest = text[cut:].lstrip(_SEPARATORS)
        return rest if rest else text

    def _whole(self, pattern: re.Pattern[str] | None, text: str) -> bool:
        if pattern is None:
            return False
        bare = self._bare(text)
        return bool(bare) and pattern.fullmatch(bare) is not None

    def _bare(self, text: str) -> str:
        """The normal form without punctuation, spaces or emoji, as whole-message patterns read it."""
        return re.sub(r"[\W_]+", "", self.normalize(text))

    def mask(self, text: str) -> str:
        for idiom in self._idioms:
            text = idiom.sub(lambda mt: "□" * len(mt.group()), text)
        return text

    def clauses(self, text: str) -> list[tuple[int, int]]:
        spans, start = [], 0
        for mt in self._breaks.finditer(text):
            spans.append((start, mt.start()))
            start = mt.end()
        spans.append((start, len(text)))
        return spans

    def frames(self, text: str) -> tuple[str, ...]:
        """Which context frames the message holds anywhere (features for the model)."""
        norm = self.mask(self.normalize(text))
        found = []
        for name, items in (("past", self._past), ("info", self._info), ("resolved", self._resolved), ("service", self._service)):
            if any(c.pattern.search(norm) for c in items):
                found.append(name)
        return tuple(found)

    # -- rules -----------------------------------------------------------------

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

    def veto(self, piece: str) -> str | None:
        """Why the rules positively rule this piece out (an idiom masked, a soft rule dropped
        for its context, a past / information / service frame), or None. Used by the kNN
        baseline in bench/ to drop a clause's vote."""
        raw = self.normalize(piece)
        norm = self.mask(raw)
        if norm != raw:
            return "idiom"
        clauses = self.clauses(norm)
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
        for name, items in (("past", self._past), ("info", self._info), ("service", self._service)):
            if any(c.pattern.search(norm) for c in items):
                return name
        return None

    def resolves(self, piece: str) -> bool:
        norm = self.mask(self.normalize(piece))
        return any(c.pattern.search(norm) for c in self._resolved)

    def evaluate(self, text: str, *, prior_kind: str | None = None) -> RuleFindings:
        """Every rule against one message. `prior_kind` is the conversation's kind so far (a
        self-harm conversation turns a later 「今夜やる」 into an emergency)."""
        raw = self.normalize(text)
        norm = self.mask(raw)
        clauses = self.clauses(norm)
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
        escalated = [
            (esc_id, to_kind)
            for esc_id, when, cue_patterns, to_kind in self._escalations
            if when & (kinds | ({prior_kind} if prior_kind else set())) and any(p.search(norm) for p in cue_patterns)
        ]
        hard = [r for r in fired if r.hard or r.floor]
        cues = frozenset(name for name, pattern in self._categories if pattern.search(norm))
        all_kinds = frozenset(kinds | {k for _, k in escalated})
        return RuleFindings(
            level=Urgency.max(*(r.level for r in fired), *(Urgency.EMERGENCY for _ in escalated)),
            floor=Urgency.max(*(r.level for r in hard), *(Urgency.EMERGENCY for _ in escalated)),
            kind=_pick_kind(fired, escalated),
            floor_kind=_pick_kind(hard, escalated),
            kinds=all_kinds,
            fired=tuple(dict.fromkeys([r.id for r in fired] + [e for e, _ in escalated])),
            hard=tuple(dict.fromkeys([r.id for r in hard] + [e for e, _ in escalated])),
            suppressed=tuple(suppressed),
            category_cues=cues,
            report_category=self.report_category(cues, all_kinds),
        )

    def report_category(self, cues: frozenset[str], kinds: set[str] | frozenset[str]) -> str:
        """Kashiwa's situation category: the text's cues plus each risk kind's default."""
        found = set(cues) | {self._kind_category[k] for k in kinds if k in self._kind_category}
        if len(found) > 1:
            return "複合"
        return found.pop() if found else "その他"


def _pick_kind(fired: list[_Rule], escalated: list[tuple[str, str]]) -> str | None:
    if escalated:
        return min((k for _, k in escalated), key=KINDS.index)
    if not fired:
        return None
    top = max(r.level.rank for r in fired)
    return min((r.kind for r in fired if r.level.rank == top), key=KINDS.index)


@lru_cache(maxsize=1)
def default_rules() -> RuleEngine:
    return RuleEngine(load_lexicon(LEXICON_DIR))
