"""Logging setup: stderr, secrets (bot tokens, webhook secrets) redacted and personal data masked in every record."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        exc_text = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        if any(s in message or s in exc_text for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
                exc_text = exc_text.replace(secret, "***")
            record.msg, record.args = message, None
            if record.exc_info:
                record.exc_info, record.exc_text = None, exc_text
                record.msg = f"{message}\n{exc_text}"
        return True


MASK = "***"
#: Vietnamese phone numbers: 0912345678, 0912 345 678, +84 912.345.678, 84912345678
_PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[ .\-]?\d){8,10}(?![\w])")
#: bank accounts and other long numbers (chat and update ids stay readable: they are shorter)
_LONG_NUMBER = re.compile(r"(?<!\d)\d{12,}(?!\d)")
#: the database's own echo of values: "DETAIL:  Key (member_code)=(NTL-0103) already exists."
_DETAIL = re.compile(r"(DETAIL:|Failing row contains|Key \().*")
#: a quoted value (the repr of a value in an exception message)
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
#: ...that holds free text a member wrote: a non-ASCII letter, a run of digits, or three words (a name)
_FREE_TEXT = re.compile(r"[^\x00-\x7f]|\d{6}|\S+\s+\S+\s+\S+")
#: free text in Vietnamese (names, descriptions, notes): every run of words with a non-ASCII letter
_NON_ASCII_RUN = re.compile(r"\S*[^\x00-\x7f]\S*(?:\s+\S*[^\x00-\x7f]\S*)*")
#: what SQLAlchemy logs at DEBUG besides statements: result rows and their columns (names, phones, texts)
_SQLALCHEMY_ROWS = ("Row ", "Col ")


def mask_personal_data(text: str) -> str:
    """Phone numbers, long numbers, echoed values and free text of a log line -> ``***``."""
    text = _DETAIL.sub(lambda m: m.group(1) + " " + MASK, text)
    text = _QUOTED.sub(lambda m: m.group(0)[0] + MASK + m.group(0)[0] if _FREE_TEXT.search(m.group(0))
                       else m.group(0), text)
    text = _PHONE.sub(MASK, text)
    text = _LONG_NUMBER.sub(MASK, text)
    return _NON_ASCII_RUN.sub(MASK, text)


class MaskPersonalData(logging.Filter):
    """Personal data never in logs, at any level: a last line of defence on the handler.

    Values are kept out of log calls where they are made (SQLAlchemy's ``hide_parameters``, the driver's
    statement log off, ids only in our messages); this filter masks what slips through anyway: phone numbers,
    long numbers, quoted and Vietnamese free text, in the message and in an exception's text (a database
    error echoes the values it refused). SQLAlchemy's result rows at DEBUG are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("sqlalchemy") and isinstance(record.msg, str) and \
                record.msg.startswith(_SQLALCHEMY_ROWS):
            return False
        try:
            message = record.getMessage()
        except Exception:  # a broken log call: keep its format string only
            message = str(record.msg)
        masked = mask_personal_data(message)
        exc_text = record.exc_text or (logging.Formatter().formatException(record.exc_info)
                                       if record.exc_info else "")
        if exc_text:
            exc_text = mask_personal_data(exc_text)
            record.exc_info, record.exc_text = None, None
            masked = f"{masked}\n{exc_text}"
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        record.msg, record.args = masked, None
        return True


def setup_logging(level: str, secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setLevel(level.upper())  # also for libraries that set their own logger to DEBUG at import (bm25s)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(MaskPersonalData())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
