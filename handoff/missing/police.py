"""Whether a reporter says the police already know (別紙8-3 「警察署への行方不明者発生の110番通報の
有無」; Setagaya 003 §1(2)⑤イ: 「無」 means the reporter is told to call at once).

A daughter often says it in her first message (「さっき警察には電話しました」) and then answers the
bot's 110 question with the details instead of a yes: the record must still say 「有」, and the
bot must not tell her to call as if she had not."""

from __future__ import annotations

import re

from handoff.requests.values import normalized

_POLICE = r"(?:110番?|警察(?:署)?|けいさつ|ケイサツ|交番|こうばん|駐在所)"
_END = r"[^。.!?！？\n]{0,14}?"
_PARTICLE = r"(?:には|にも|に|へ|は|も)?"
_TELL = r"(?:電話|でんわ|連絡|れんらく|通報|つうほう|届け|届出|とどけ|相談|言|伝え|つたえ|話|行|い)"
_NOT_YET = re.compile(
    _POLICE + _PARTICLE + r"(?:まだ|これから)"
    + "|" + _POLICE + _PARTICLE + _TELL + r"[^。.!?！？\n]{0,4}?(?:て(?:い)?ない|て(?:い)?ません|ておらず|ようか|た方|たほう|べき|なきゃ|なければ)"
    + "|" + _POLICE + _PARTICLE + r"(?:電話|でんわ)(?:が|は)?(?:つながらな|繋がらな|通じな)"
    + r"|^(?:いいえ|いえ|まだ|してない|していない|してません|していません)"
)
_CALLED = re.compile(
    _POLICE + _PARTICLE + _END
    + r"(?:電話|でんわ|連絡|れんらく|通報|つうほう|届け|届出|とどけ|相談|捜索願い?|そうさくねがい|行方不明者届|言い|言っ|伝え|つたえ|話し|行って|いって)"
    r"(?:を|は|も)?(?:し|済|ずみ|出し|だし|入れ|いれ|ま|て(?:き|来)|た|き|来)"
    r"|110番?(?:に|へ)?し(?:た|まし)"
    r"|捜索願い?(?:を|は|も)?(?:出し|だし|提出)"
    r"|(?:警察|けいさつ|おまわりさん|警察官)(?:の方|の人)?(?:が|は)?(?:来|き)て"
)
_NAMED = re.compile(_POLICE + r"|おまわりさん")
_YES = re.compile(r"^(?:はい|ええ|うん|済み|済んで|すみ|しました|連絡しました|通報しました|電話しました|もうしました)")


def police_called(text: str) -> bool | None:
    """True when the text says the police were told, False when it says not yet, None when
    it does not say. Our own buttons answer for themselves."""
    if text.startswith("missing110:"):
        return text == "missing110:yes"
    plain = normalized(text).strip()
    if _NOT_YET.search(plain):
        return False
    if _CALLED.search(plain) or _YES.match(plain):
        return True
    return None


def police_news(text: str) -> bool | None:
    """`police_called`, for a message that names the police: what a reporter says about them in
    the middle of the intake (「さっき交番に行ってきました」 where her name is asked). A bare
    「はい」 there answers the other question and is no news about the police."""
    if not _NAMED.search(normalized(text)):
        return None
    return police_called(text)
