"""When PostgreSQL cannot be reached, a request gets 503 with Retry-After and an error body,
a change in flight leaves nothing half done, and the service recovers by itself."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy.engine import make_url

from portal_gateway.config import Settings
from portal_gateway.db import Database
from portal_gateway.models.enums import SubscriptionStatus
from tests.api import Api, app_client
from tests.browser import free_port
from tests.factories import World, gid, unique_email


class Outage:
    """A TCP relay to the database that a test can cut and restore, as a network would."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        for writer in list(self.links):
            writer.close()
        self.links.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.links |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


VIEWER = "{ viewer { email subscriptions { edges { node { status } } } } }"
CANCEL = """mutation($id: ID!) { cancelSubscription(input: {subscriptionId: $id,
  atPeriodEnd: false}) { __typename } }"""


async def test_an_unreachable_database_is_a_503_to_retry_and_the_service_recovers(
    world: World, db: Database, settings: Settings
) -> None:
    if db.is_sqlite:
        pytest.skip("an embedded database cannot become unreachable")
    url = make_url(db.url)
    outage = Outage(url.host or "127.0.0.1", url.port or 5432)
    await outage.restore()
    relayed = Database(url.set(host="127.0.0.1", port=outage.port).render_as_string(False),
                       pool_size=2)  # fmt: skip
    business = await world.business()
    account = await world.account(business, unique_email("outage"))
    subscription = await world.subscription(account, await world.product(business, 1000))
    try:
        async with app_client(settings, relayed) as client:
            api = Api(client)
            token = await api.session_for(business, account)
            assert (await api.gql(VIEWER, token=token))["data"]["viewer"] is not None
            await outage.cut()
            for query, variables, credential in (
                (VIEWER, {}, token),
                (CANCEL, {"id": gid("Subscription", subscription.id)}, token),
                ("{ currentBusiness { name } }", {}, business.api_key),
            ):
                response = await client.post(
                    "/graphql", json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {credential}"},
                )  # fmt: skip
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"].isdigit()
                codes = {e["extensions"]["code"] for e in response.json()["errors"]}
                assert codes == {"SERVICE_UNAVAILABLE"}, response.text
            page = await client.get(f"/portal/login/test_{business.id}")
            assert (page.status_code, page.headers["retry-after"]) == (503, "5")
            await outage.restore()
            body = await api.gql(VIEWER, token=token)
            statuses = [
                e["node"]["status"] for e in body["data"]["viewer"]["subscriptions"]["edges"]
            ]
            assert statuses == [SubscriptionStatus.ACTIVE.value]  # the cancel did not half happen
    finally:
        await relayed.dispose()
        await outage.cut()
