"""The Mutation root: one field per module under each area's `mutations/`."""

from __future__ import annotations

import strawberry

from portal_gateway.schema.accounts.mutations import update_billing_details
from portal_gateway.schema.businesses.mutations import update_business_settings
from portal_gateway.schema.payments.mutations import (
    add_payment_method,
    remove_payment_method,
    update_payment_method,
)
from portal_gateway.schema.sign_in.mutations import (
    create_portal_session,
    request_sign_in_link,
    sign_in,
    sign_out,
)
from portal_gateway.schema.subscriptions.mutations import (
    cancel_subscription,
    change_plan,
    resume_subscription,
)


@strawberry.type
class Mutation:
    request_sign_in_link = request_sign_in_link.field
    sign_in = sign_in.field
    sign_out = sign_out.field
    create_portal_session = create_portal_session.field
    update_business_settings = update_business_settings.field
    update_billing_details = update_billing_details.field
    cancel_subscription = cancel_subscription.field
    resume_subscription = resume_subscription.field
    change_plan = change_plan.field
    add_payment_method = add_payment_method.field
    update_payment_method = update_payment_method.field
    remove_payment_method = remove_payment_method.field
