"""Keep residents' words out of server logs (issue 12; Kashiwa 002 §9, Setagaya 別紙1-1).

Engines are created with `hide_parameters=True`, so SQLAlchemy errors no longer carry bound
values. This record factory scrubs what still slips through — a driver's own error text, an
f-string somebody logs — by hiding SQL parameter lists and masking phone numbers, e-mail
addresses and long digit runs in the message and in the formatted traceback.
"""

from __future__ import annotations

import logging
import re
import traceback

from frontdoor.redact import redact

_PARAMS = re.compile(r"\[parameters: .*?\]( \(Background on this error)?", re.DOTALL)
_INSTALLED = "_frontdoor_scrubbed"


def scrub_text(text: str) -> str:
    text = _PARAMS.sub(lambda m: "[parameters hidden]" + (m.group(1) or ""), text)
    return redact(text)


def install() -> None:
    """Idempotent: wrap the process's log record factory once."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _INSTALLED, False):
        return

    def factory(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = str(record.msg)
        record.msg, record.args = scrub_text(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = scrub_text("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    setattr(factory, _INSTALLED, True)
    logging.setLogRecordFactory(factory)
