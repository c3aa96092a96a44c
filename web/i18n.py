"""Message catalogues: English message ids, translated by ``locale/<lang>/LC_MESSAGES/messages.po``.

The ``.po`` sources are read with Babel when the app starts (no compile step, so a clean
clone works); English is the source language.  ``make messages`` re-extracts the ids
into ``messages.pot`` and updates the catalogues; a test checks that every id used in
the code and the templates has a Chinese translation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "zh_CN"
LANGUAGES: dict[str, str] = {"zh_CN": "zh-CN", "en": "en"}
"""The app's languages and their HTML ``lang`` tags; the first is the default."""
LANGUAGE_NAMES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
"""Each language's name in itself, as the switch shows it on every page, whatever the page's language."""

Gettext = Callable[[str], str]


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name
    """Mark a message id for extraction; it is translated where shown."""
    return message


@lru_cache
def catalogue(language: str) -> dict[str, str]:
    """The translations of a language: message id -> text (empty for the source language)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        cat = read_po(f, locale=language)
    out: dict[str, str] = {}
    for message in cat:
        translated = isinstance(message.id, str) and isinstance(message.string, str) and message.string
        if message.id and translated and not message.fuzzy:
            out[str(message.id)] = str(message.string)
    return out


def translator(language: str) -> Gettext:
    """``gettext`` for a language: the translation, or the English id when there is none."""
    messages = catalogue(language)

    def gettext(message: str) -> str:
        return messages.get(message) or message

    return gettext


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the switch's cookie, else the browser's preference, else Chinese.

    ``Accept-Language`` is read in order of its q-values; the first tag that is Chinese or
    English decides (``en-US,en;q=0.9`` is English, ``fr,zh;q=0.5`` Chinese).
    """
    if cookie in LANGUAGES:
        return cookie
    tags: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag:
            tags.append((-q, i, tag.strip().lower()))
    for neg_q, _i, tag in sorted(tags):
        if neg_q >= 0:
            break
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT
