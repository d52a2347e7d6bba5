"""The portal's inbox: every notice the consumer was sent (``authz.notices``), newest first.

Opening the page marks them read. Notices are plain text (the email's text part): each
paragraph is shown as a paragraph, escaped like everything else on the page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import Response

from authz.notices.dates import in_words
from authz.screens.portal.visit import HOME, Visit

SHOWN = 100  # the newest notices on the page


async def notices(visit: Visit) -> Response:
    """GET /consumer/notices."""
    services = visit.services
    inbox = services.notices.inbox
    found = await inbox.list(visit.customer_id, limit=SHOWN)
    shown = [
        {
            "subject": n.subject,
            "when": in_words(n.time, visit.lang),
            "iso": datetime.fromtimestamp(n.time, UTC).isoformat(),
            "new": n.read_at is None,
            "paragraphs": [p.strip() for p in n.text.split("\n\n") if p.strip()],
        }
        for n in found
    ]
    if any(n.read_at is None for n in found):
        await inbox.mark_read(visit.customer_id, services.clock())
    return visit.render("portal/notices.html", here=HOME + "/notices", nav="notices", notices=shown)
