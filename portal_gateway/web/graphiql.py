"""GraphiQL as this service serves it: opened with a query for whoever is signed in (a link
made for a task opens on that task's subject), under a CSP that lets in only its pinned
CDN scripts and its own inline script."""

from __future__ import annotations

import json
import re
import secrets

from starlette.responses import HTMLResponse

from portal_gateway.auth.principal import PortalPrincipal, Principal
from portal_gateway.core.ids import encode_global_id
from portal_gateway.models.enums import PortalFlowType, PortalScope
from portal_gateway.queries.businesses import business_by_id
from portal_gateway.resources import Resources

_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)
_CDN = "https://unpkg.com"

_SIGNED_OUT = """# Portal Gateway: the GraphQL API of the billing portal.
#
# Nobody is signed in here. Open a sign-in link (from `portal-gateway demo seed --announce`,
# createPortalSession or an email) and press Continue, or put a business's API key in the
# headers pane below: {"Authorization": "Bearer sk_test_..."}
{
  viewer { email }
  currentBusiness { name }
}
"""

_VIEWER = """{
  viewer {
    email
    scope
    businesses { name }
    subscriptions(first: 10) {
      edges { node { id status product { name } recurringPrice { amount currency } } }
    }
    invoices(first: 5) { edges { node { number total { amount currency } status } } }
  }
}
"""

# What a link made for a task asks of its subscription, and the mutation that does it.
_FLOW_TASKS = {
    PortalFlowType.PAYMENT_METHOD_UPDATE: (
        "update the card of",
        '#   mutation {{ updatePaymentMethod(input: {{subscriptionId: "{id}", token: "tok_visa"}})'
        " {{ __typename }} }}\n#   (an ON_HOLD subscription's dues are charged to the new card)\n",
    ),
    PortalFlowType.SUBSCRIPTION_CANCEL: (
        "cancel",
        '#   mutation {{ cancelSubscription(input: {{subscriptionId: "{id}"}})'
        " {{ __typename }} }}\n",
    ),
    PortalFlowType.SUBSCRIPTION_UPDATE: (
        "change the plan of",
        '#   mutation {{ changePlan(input: {{subscriptionId: "{id}", productId: "<an option\'s '
        'product id>"}}) {{ __typename }} }}\n',
    ),
}

_FLOW = """# This link was made to {task} the subscription below.
{hint}query Flow {{
  node(id: "{id}") {{
    ... on Subscription {{
      id
      status
      product {{ name }}
      recurringPrice {{ amount currency }}
      currentPeriodEnd
      outstandingAmount {{ amount currency }}
      paymentMethod {{ brand last4 }}
      planChangeOptions {{ direction product {{ id name price {{ amount currency }} }} }}
    }}
  }}
}}
"""


async def welcome(resources: Resources, principal: Principal) -> str:
    """The query GraphiQL opens with, saying who is signed in."""
    if not isinstance(principal, PortalPrincipal):
        return _SIGNED_OUT
    if principal.scope is PortalScope.BUSINESS and principal.business_id:
        async with resources.db.read_sessions() as session:
            business = await business_by_id(session, principal.business_id)
        where = f"at {business.name}" if business else "at one business"
    else:
        where = "at every business where this email is a customer"
    header = f"# Signed in as {_one_line(principal.email_normalized)}, {_one_line(where)}.\n"
    header += "# Press ▶ to run.\n"
    if principal.flow_type is not None and principal.flow_subscription_id:
        subject = encode_global_id("Subscription", principal.flow_subscription_id)
        task, hint = _FLOW_TASKS[principal.flow_type]
        return header + _FLOW.format(task=task, hint=hint.format(id=subject), id=subject)
    return header + _VIEWER


def _one_line(text: str) -> str:
    """Text fit for a comment line: a name with a newline would end the comment and add
    GraphQL of its own to the prefilled document."""
    return "".join(c if c.isprintable() else " " for c in text)


def page(ide_html: str, query: str) -> HTMLResponse:
    """Strawberry's GraphiQL page, opening with `query`."""
    nonce = secrets.token_urlsafe(16)
    # JSON is a JavaScript string literal; "<" escaped, so no "</script>" can end the script.
    literal = json.dumps(query).replace("<", "\\u003c")
    html = _EXAMPLE_QUERY.sub(lambda _: f"const EXAMPLE_QUERY = {literal};", ide_html, count=1)
    html = html.replace("<html>", '<html lang="en">', 1)
    html = html.replace(
        "<title>Strawberry GraphiQL</title>", "<title>Portal Gateway GraphiQL</title>"
    )
    html = html.replace("<script>", f'<script nonce="{nonce}">')
    policy = (
        f"default-src 'none'; script-src 'nonce-{nonce}' {_CDN}; "
        f"style-src 'unsafe-inline' {_CDN}; font-src {_CDN} data:; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": policy,
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
            "Cache-Control": "no-store",
        },
    )
