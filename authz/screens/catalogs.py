"""Every message of the consumer's screens and notices, for translators (``config.locale``).

    python -m authz.screens.catalogs          # writes config/locale/messages.pot

The built-in languages (English, Japanese) live in the code beside their use; this module lists
their English text under the message ids a gettext catalog uses, so that a new language is one
``.po`` file and a line in ``languages``.
"""

from __future__ import annotations

import sys
from io import BytesIO

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from authz.notices import wording
from authz.screens import i18n
from config import locale
from config.policy import load_policy


def messages() -> dict[str, str]:
    """Message id → English text, for every non-empty message."""
    out = {"language_name": "English", **i18n.EN}
    out.update({f"account_type.{k}": v for k, v in i18n.ACCOUNT_TYPES["en"].items()})
    out.update({f"notice.{k}": v for k, v in wording.EN.items()})
    for name, cluster in load_policy().clusters.items():
        english = cluster.text["en"]
        out[f"cluster.{name}.title"] = english.title
        out[f"cluster.{name}.summary"] = english.summary
        out[f"cluster.{name}.releases"] = "\n".join(english.releases)
    return {k: v for k, v in out.items() if v}


def template() -> bytes:
    """The ``.pot`` file: every id, its English as the translator's comment, ``msgstr`` empty."""
    catalog = Catalog(project="fdx-gateway", domain=locale.DOMAIN, fuzzy=False)
    for key, english in messages().items():
        catalog.add(key, "", auto_comments=english.splitlines())
    out = BytesIO()
    write_po(out, catalog, width=0, omit_header=True, sort_output=True)
    return out.getvalue()


def main() -> int:
    locale.TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    locale.TEMPLATE.write_bytes(template())
    print(f"wrote {locale.TEMPLATE} ({len(messages())} messages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
