"""``python -m web.catalogue``: update ``locale/zh_CN/.../messages.po`` from ``messages.pot``.

``make messages`` extracts the message ids (``pybabel extract``) and runs this: new ids
are added untranslated, ids no longer used are dropped, translations kept.
"""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from web.i18n import LOCALE_DIR


def update(language: str) -> int:
    """Merge the template into a language's catalogue; returns the number of untranslated ids."""
    with (LOCALE_DIR / "messages.pot").open("rb") as f:
        template = read_po(f)
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    catalogue = Catalog(locale=language, project="Linli web", fuzzy=False)
    if path.exists():
        with path.open("rb") as f:
            catalogue = read_po(f, locale=language)
    catalogue.update(template, no_fuzzy_matching=True)
    catalogue.obsolete.clear()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalogue, omit_header=False, sort_output=True, width=110)
    return sum(1 for m in catalogue if m.id and not m.string)


if __name__ == "__main__":
    missing = update(sys.argv[1] if len(sys.argv) > 1 else "zh_CN")
    print(f"{missing} message(s) to translate", file=sys.stderr)
