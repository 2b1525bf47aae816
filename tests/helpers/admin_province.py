"""Zhejiang served as in production for administration: its admin account is also its writer.

The harness's ZJ sends from ``zj_writer``, which is not the issuer's admin. In
our deployments the province's own account is both, so here ``zj_admin`` is
appointed a writer of ZJ, its outbox processor replaces the harness's (it
anchors batches and checkpoints and sends the admin's registry calls), and the
context knows it as the operator account. ``governor_processor`` is the
writer's pinned-only processor for a governor account.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eth_account.signers.local import LocalAccount

from api.runtime.writer import operator_outbox
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import ServedProvince, served_province


@contextmanager
def admin_province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """ZJ served, with ``zj_admin`` as the account its writer sends everything from."""
    admin = world.accounts.zj_admin
    world.registry.add_writer(world.zj_admin, ZJ, admin.address)
    with served_province(world, tmp_path, ZJ) as province:
        processor = operator_outbox(province.parts, admin)
        province.batches.register(processor)
        province.parts.checkpoints.register(processor)
        province.processor = processor
        province.context.operator_account = admin.address
        yield province


def governor_processor(province: ServedProvince, governor: LocalAccount) -> OutboxProcessor:
    """The writer's processor for ``governor``: it takes only the items pinned to it."""
    db = province.parts.db
    sender = NonceManager(province.world.client, governor, OutboxJournal(db, governor.address))
    return OutboxProcessor(db, sender, shared=False)


def drive(province: ServedProvince, *processors: OutboxProcessor) -> None:
    """Run the writer's processors until nothing is open, then sync the chain index."""
    for processor in processors or (province.processor,):
        processor.run_until_final(timeout=60, poll=0.01)
    province.sync()
