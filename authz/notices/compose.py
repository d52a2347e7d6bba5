"""A notice in the consumer's language: its subject, plain text and HTML (Jinja2 templates).

The HTML template is autoescaped: an app's name or purpose is the app's own text and never
becomes markup. Nothing in a notice is fetched when it is read (no image, no remote style, no
tracking), and no token, consent id or full account number is ever put in one: accounts are
named by product and masked number, the link is the portal's address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from authz.notices import wording

KINDS = (
    "granted",
    "ended",
    "expiring",
    "reauthorize",
    "changed",
    "suspended",
    "reinstated",
    "deletion_overdue",
)

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(
    kind: str,
    lang: str,
    *,
    values: Mapping[str, str],
    facts: Sequence[tuple[str, str]] = (),
    extra: Sequence[str] = (),
    portal_url: str,
) -> Rendered:
    """``kind`` (one of ``KINDS``) filled with ``values`` (client, provider, date, …); ``facts``
    are (label, value) rows already in ``lang``; ``extra`` paragraphs follow the kind's own."""
    if kind not in KINDS:
        raise ValueError(f"no notice kind {kind!r}")
    t = wording.text(lang)
    fill = {**values, "url": portal_url}
    more = [t[f"{kind}.more"].format(**fill), *extra]
    subject = t[f"{kind}.subject"].format(**fill)
    context = {
        "lang": lang,
        "subject": subject,
        "lead": t[f"{kind}.lead"].format(**fill),
        "more": [p for p in more if p],
        "facts": list(facts),
        "stop": t["stop"].format(**fill),
        "portal": t["portal"].format(**fill),
        "portal_link": t["portal_link"],
        "portal_url": portal_url,
        "footer": t["footer"].format(**fill),
    }
    return Rendered(
        subject=subject,
        text=_ENV.get_template("notice.txt").render(context),
        html=_ENV.get_template("notice.html").render(context),
    )
