"""Extract messages from the code and merge them into the catalogs.

Run ``python -m locales.extract`` after changing user-facing text; then translate
the new entries in ``locales/*/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from locales import LOCALES, catalog_path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("domain", "handlers", "bot")
KEYWORDS = {"_": None, "n_": (1, 2)}


def extract() -> Catalog:
    """Every message the code marks with ``_`` or ``n_``."""
    template = Catalog(project="sangkien-bot", fuzzy=False)
    for source in SOURCES:
        for filename, lineno, message, comments, _context in extract_from_dir(
            ROOT / source, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            template.add(message, locations=[(f"{source}/{filename}", lineno)],
                         auto_comments=comments)  # fmt: skip
    return template


def update() -> None:
    """Merge the extracted messages into each language's catalog."""
    template = extract()
    for language, locale in LOCALES.items():
        path = catalog_path(language)
        if path.exists():
            with path.open("rb") as source:
                catalog = read_po(source, locale=locale)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, project="sangkien-bot", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as target:
            write_po(target, catalog, width=100, omit_header=False, sort_output=False)
        untranslated = [m.id for m in catalog if m.id and not m.string]
        print(f"{language}: {len(catalog)} messages, {len(untranslated)} untranslated")


if __name__ == "__main__":
    update()
