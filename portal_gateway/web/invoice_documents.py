"""GET on an invoice's pdfUrl: the PDF, for whoever holds a link we signed, without a
session, so that it opens in a new tab or from a mail client.

The link is checked before anything is read: an altered, made-up or foreign link is 403
and an expired one 410, and neither answer says whether the invoice exists.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from portal_gateway.auth.document_links import LinkVerdict
from portal_gateway.core import clock
from portal_gateway.core.ids import decode_global_id
from portal_gateway.documents.fonts import MissingFontsError
from portal_gateway.services.invoice_documents import invoice_document, invoice_pdf
from portal_gateway.web.state import resources_of

log = logging.getLogger(__name__)

INVOICE_PDF_PATH = "/invoices/{invoice_id}.pdf"
# Nothing of this answer may be kept by a shared cache, nor its link leak onward.
_PRIVATE = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_PLAIN_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


async def show(request: Request) -> Response:
    resources = resources_of(request)
    link_id = request.path_params["invoice_id"]
    verdict = resources.document_links.check(
        link_id,
        expires=request.query_params.get("expires"),
        kid=request.query_params.get("kid"),
        signature=request.query_params.get("signature"),
        now=clock.now(),
    )
    if verdict is LinkVerdict.EXPIRED:
        return _refusal(
            410, "This link has expired. Open the invoice in your billing portal for a new one."
        )
    decoded = decode_global_id(link_id)
    if verdict is not LinkVerdict.VALID or decoded is None or decoded[0] != "Invoice":
        return _refusal(403, "This link is not valid.")
    async with resources.db.read_sessions() as session:
        document = await invoice_document(session, decoded[1])
    if document is None:  # signed by us for an invoice that is gone: no different answer
        return _refusal(403, "This link is not valid.")
    try:
        pdf = await invoice_pdf(document, resources.settings.font_cache_path)
    except MissingFontsError as error:
        log.error("invoice PDF not drawn: %s", error)
        return _refusal(
            503, "This invoice's language needs fonts that this server does not have yet."
        )
    filename = f"{document.number}.pdf"
    disposition = f'attachment; filename="{_PLAIN_FILENAME.sub("_", filename)}"'
    if _PLAIN_FILENAME.sub("_", filename) != filename:
        disposition += f"; filename*=UTF-8''{quote(filename)}"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={**_PRIVATE, "Content-Disposition": disposition},
    )


def _refusal(status: int, message: str) -> Response:
    return PlainTextResponse(message, status_code=status, headers=_PRIVATE)
