"""Optional LLM rephrasing of a curated answer, never a source of new facts.

The model (any LangChain chat model, e.g. an on-prem OpenAI-compatible endpoint) may only
restate the retrieved entry in friendlier words. Anything that goes wrong — no model, an
error, a timeout, an empty reply, a reply that drops or invents a phone number or URL —
sends the curated text instead, so the resident always gets the reviewed answer.
"""

from __future__ import annotations

import asyncio
import logging
import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from knowledge.answering import Answer

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "あなたは自治体の福祉相談窓口のチャットです。"
    "次の【案内文】を、高齢の方にも読みやすい、ていねいで短い文に言い換えてください。"
    "案内文にない情報は一切加えないでください。電話番号、URL、メールアドレス、時間、数字は一字も変えずにそのまま残してください。"
    "手続きが済んだ、受け付けた、送ったなどとは書かないでください。言い換えた文だけを出力してください。"
)

# Tokens that must survive rephrasing unchanged: numbers (phones, hours, national lines), URLs, e-mail.
_KEEP = re.compile(r"https?://\S+|[\w.+-]+@[\w.-]+|#?\d[\d\-]*\d|#?\d")
MAX_GROWTH = 1.6


def _faithful(original: str, candidate: str) -> bool:
    """Reject empty, bloated, or number-changing rewrites: cheap checks against invented facts."""
    if not candidate.strip() or len(candidate) > MAX_GROWTH * len(original) + 40:
        return False
    kept_before = _KEEP.findall(original)
    kept_after = _KEEP.findall(candidate)
    return sorted(set(kept_before)) == sorted(set(kept_after))


async def rephrase(answer: Answer, *, model: BaseChatModel | None, timeout_s: float) -> str:
    """A rephrased reply, or answer.reply on any failure. Only curated answers are rephrased."""
    if model is None or answer.kind != "answer":
        return answer.reply
    messages = [SystemMessage(SYSTEM_PROMPT), HumanMessage(f"【案内文】\n{answer.reply}")]
    try:
        result = await asyncio.wait_for(model.ainvoke(messages), timeout=timeout_s)
    except asyncio.TimeoutError:
        log.warning("rephrase timed out after %.1fs; sending the curated text", timeout_s)
        return answer.reply
    except Exception:  # any model failure falls back to the reviewed text
        log.warning("rephrase failed; sending the curated text", exc_info=True)
        return answer.reply
    text = result.content if isinstance(result.content, str) else ""
    text = text.strip()
    if not _faithful(answer.reply, text):
        log.warning("rephrase changed facts or length; sending the curated text")
        return answer.reply
    return text
