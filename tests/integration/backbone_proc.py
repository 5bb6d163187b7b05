"""A publisher process for the backbone tests: stages events in its outbox and either relays
them or dies right after the commit (to prove the relay sends them on the next start).

    python -m tests.integration.backbone_proc DB_URL NATS_URL COUNT [--crash-after-commit]
"""

from __future__ import annotations

import asyncio
import os
import sys

from sqlalchemy import MetaData

from shared.events.referrals import ReferralCreated
from shared.runtime import Runtime
from shared.settings import Settings


def referral(i: int) -> ReferralCreated:
    return ReferralCreated(referral_id=f"r-{i}", citizen_ref=f"c-{i}", community_id="k-1", referrer_id="a-1")


async def main(db_url: str, nats_url: str, count: int, crash: bool) -> None:
    runtime = Runtime(Settings(service="referrals", database_url=db_url, nats_url=nats_url), MetaData())
    runtime.db.create_schema(runtime.metadata)
    if count:
        with runtime.unit_of_work() as uow:
            uow.stage(*(referral(i) for i in range(count)))
    if crash:
        os._exit(17)  # the state change is committed; nothing was published
    await runtime.start()
    assert runtime.relay is not None
    await runtime.relay.drain()
    await runtime.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), "--crash-after-commit" in sys.argv))
