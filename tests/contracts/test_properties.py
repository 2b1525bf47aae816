"""Property tests: random call sequences against the contracts and a Python model.

Each example runs inside its own ``evm_snapshot`` (reverted afterwards), so
examples are independent and cheap. Invariants: history only grows (checkpoints,
keys, proposals, status events) and only allowed status transitions happen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.chain.contracts.credential_anchor import ALLOWED_TRANSITIONS, DigestStatus
from ledger.chain.contracts.errors import (
    AuditAnchorNotWriterError,
    AuditAnchorTreeSizeNotGrowingError,
    CredentialAnchorInvalidTransitionError,
    CredentialAnchorNotWriterError,
    IssuerRegistryAlreadyApprovedError,
    IssuerRegistryCompromiseNotEarlierError,
    IssuerRegistryIssuerNotActiveError,
    IssuerRegistryIssuerNotSuspendedError,
    IssuerRegistryKeyAlreadyRetiredError,
    IssuerRegistryKeyBackdatedError,
    IssuerRegistryNotGovernorError,
    IssuerRegistryProposalAlreadyExecutedError,
)
from ledger.chain.contracts.registry import IssuerStatus, KeyRecord, ProposalOutcome
from ledger.chain.node.transactions import NonceManager
from tests.helpers.contracts import GD, ZJ, World, random_point

PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

DIGESTS = [os.urandom(32) for _ in range(4)]
TARGET = {
    "revoke": DigestStatus.REVOKED,
    "suspend": DigestStatus.SUSPENDED,
    "reinstate": DigestStatus.NONE,
}


# ------------------------------------------------------------ digest statuses

status_op = st.tuples(
    st.sampled_from(sorted(TARGET)),
    st.integers(0, len(DIGESTS) - 1),
    st.sampled_from(["zj-own", "gd-own", "gd-into-zj"]),
    st.booleans(),
    st.integers(0, 2**16 - 1),
)


@PROPERTY_SETTINGS
@given(ops=st.lists(status_op, min_size=1, max_size=10))
def test_only_allowed_status_transitions_happen(
    world: World, ops: list[tuple[str, int, str, bool, int]]
) -> None:
    with world.snapshot():
        anchor = world.credential
        start = world.client.block_number() + 1
        model: dict[tuple[int, bytes], DigestStatus] = {}
        reasons: dict[tuple[int, bytes], int] = {}
        changes = 0
        for action, index, who, batch, reason in ops:
            digest = DIGESTS[index]
            sender, issuer = {
                "zj-own": (world.zj_writer, ZJ),
                "gd-own": (world.gd_writer, GD),
                "gd-into-zj": (world.gd_writer, ZJ),
            }[who]
            before = model.get((issuer, digest), DigestStatus.NONE)
            target = TARGET[action]
            method = getattr(anchor, f"{action}_batch" if batch else action)
            argument = [digest] if batch else digest
            try:
                method(sender, issuer, argument, reason)
            except CredentialAnchorNotWriterError:
                assert who == "gd-into-zj"
            except CredentialAnchorInvalidTransitionError as error:
                assert who != "gd-into-zj"
                assert (before, target) not in ALLOWED_TRANSITIONS
                assert error.fields["from"] == before  # noqa: PT017 - a model check, not the test's subject
            else:
                assert who != "gd-into-zj"
                assert (before, target) in ALLOWED_TRANSITIONS
                model[(issuer, digest)] = target
                reasons[(issuer, digest)] = reason
                changes += 1
            for issuer_id in (ZJ, GD):
                for record, d in zip(anchor.statuses_of(issuer_id, DIGESTS), DIGESTS, strict=True):
                    assert record.status == model.get((issuer_id, d), DigestStatus.NONE)
                    if (issuer_id, d) in reasons:
                        assert record.reason == reasons[(issuer_id, d)]
        # Every change left exactly one event; nothing else did.
        head = world.client.block_number()
        logged = anchor.contract.events(start, head) if head >= start else []
        events = [e for e in logged if e.name == "CredentialStatusChanged"]
        assert len(events) == changes
        revoked = {(e.args["issuerId"], e.args["digest"]) for e in events if e.args["status"] == 1}
        for key in revoked:
            assert model[key] == DigestStatus.REVOKED  # Revoked is final


# ---------------------------------------------------------------- key history


@dataclass
class KeyModel:
    """What the test expects of one key."""

    key_id: str
    valid_from: int
    retired_at: int | None = None
    compromised_from: int | None = None


key_op = st.one_of(
    st.tuples(st.just("add"), st.sampled_from([None, -100, -1, 60, 500, 5000])),
    st.tuples(st.just("retire"), st.integers(0, 4)),
    st.tuples(st.just("compromise"), st.integers(0, 4), st.integers(-3000, 3000)),
    st.tuples(st.just("wait"), st.integers(1, 2000)),
)


@PROPERTY_SETTINGS
@given(ops=st.lists(key_op, min_size=1, max_size=10))
def test_key_history_only_grows_and_validity_follows_the_rule(
    world: World, ops: list[tuple[object, ...]]
) -> None:
    with world.snapshot():
        registry, admin = world.registry, world.zj_admin
        initial = registry.key(ZJ, "key-1")
        keys = [KeyModel("key-1", initial.valid_from)]
        for op in ops:
            now = world.now()
            if op[0] == "add":
                offset = op[1]
                valid_from = None if offset is None else now + int(str(offset))
                key_id = f"key-{len(keys) + 1}"
                try:
                    outcome = registry.add_key(admin, ZJ, key_id, random_point(), valid_from)
                except IssuerRegistryKeyBackdatedError:
                    assert valid_from is not None
                    assert valid_from < now + 1
                    continue
                keys.append(KeyModel(key_id, int(outcome.event("KeyAdded").args["validFrom"])))
            elif op[0] == "retire":
                index = int(str(op[1]))
                if index >= len(keys):
                    continue
                key = keys[index]
                try:
                    outcome = registry.retire_key(admin, ZJ, key.key_id)
                except IssuerRegistryKeyAlreadyRetiredError:
                    assert key.retired_at is not None
                    continue
                assert key.retired_at is None
                key.retired_at = int(outcome.event("KeyRetired").args["retiredAt"])
            elif op[0] == "compromise":
                index, offset = int(str(op[1])), int(str(op[2]))
                if index >= len(keys):
                    continue
                key = keys[index]
                when = max(0, now + offset)
                try:
                    registry.mark_key_compromised(admin, ZJ, key.key_id, when)
                except IssuerRegistryCompromiseNotEarlierError:
                    assert key.compromised_from is not None
                    assert when >= key.compromised_from
                    continue
                assert key.compromised_from is None or when < key.compromised_from
                key.compromised_from = when
            else:
                world.advance(int(str(op[1])))
            # History only grows: every key so far, in order, with the expected record.
            on_chain = registry.keys(ZJ)
            assert [k.key_id for k in on_chain] == [k.key_id for k in keys]
            for record, expected in zip(on_chain, keys, strict=True):
                assert (record.valid_from, record.retired_at, record.compromised_from) == (
                    expected.valid_from,
                    expected.retired_at,
                    expected.compromised_from,
                )
        probes = sorted({t for k in keys for t in _edges(k)} | {world.now(), world.now() + 10**6})
        for key in keys:
            local = KeyRecord(
                ZJ, key.key_id, b"", key.valid_from, key.retired_at, key.compromised_from
            )
            for t in probes:
                assert registry.is_key_valid_at(ZJ, key.key_id, t) == local.is_valid_at(t)


def _edges(key: KeyModel) -> list[int]:
    times = [key.valid_from - 1, key.valid_from]
    for t in (key.retired_at, key.compromised_from):
        if t is not None:
            times += [max(0, t - 1), t]
    return times


# ---------------------------------------------------------- audit checkpoints

checkpoint_op = st.one_of(
    st.tuples(st.just("append"), st.sampled_from(["zj", "gd", "gd-into-zj"]), st.integers(-2, 4)),
    st.tuples(st.just("reset"), st.sampled_from([ZJ, GD])),
)


@dataclass
class LogModel:
    """What the test expects of one audit log."""

    epoch: int = 0
    last: int = 0
    checkpoints: list[tuple[int, int, bytes]] = field(default_factory=list)


@PROPERTY_SETTINGS
@given(ops=st.lists(checkpoint_op, min_size=1, max_size=10))
def test_checkpoints_only_grow(world: World, ops: list[tuple[object, ...]]) -> None:
    with world.snapshot():
        audit, registry = world.audit, world.registry
        logs = {ZJ: LogModel(), GD: LogModel()}
        for op in ops:
            if op[0] == "append":
                who, delta = str(op[1]), int(str(op[2]))
                sender, log_id = {
                    "zj": (world.zj_writer, ZJ),
                    "gd": (world.gd_writer, GD),
                    "gd-into-zj": (world.gd_writer, ZJ),
                }[who]
                log = logs[log_id]
                size = max(0, log.last + delta)
                root = os.urandom(32)
                try:
                    audit.append_checkpoint(sender, log_id, size, root)
                except AuditAnchorNotWriterError:
                    assert who == "gd-into-zj"
                    continue
                except AuditAnchorTreeSizeNotGrowingError:
                    assert size <= log.last
                    continue
                assert who != "gd-into-zj"
                assert size > log.last
                log.last = size
                log.checkpoints.append((log.epoch, size, root))
            else:
                log_id = int(str(op[1]))

                def reset(governor: NonceManager, log: int = log_id) -> ProposalOutcome:
                    return registry.propose_reset_audit_epoch(governor, audit.address, log)

                world.pass_proposal(reset)
                logs[log_id].epoch += 1
                logs[log_id].last = 0
            for log_id, log in logs.items():
                assert audit.epoch_of(log_id) == log.epoch
                assert audit.last_tree_size(log_id) == log.last
                stored = [(c.epoch, c.tree_size, c.root) for c in audit.checkpoints(log_id)]
                assert stored == log.checkpoints


# ------------------------------------------------------------------ governance

governance_op = st.one_of(
    st.tuples(st.just("propose"), st.integers(0, 3), st.sampled_from(["suspend", "reinstate"])),
    st.tuples(st.just("approve"), st.integers(0, 3), st.integers(0, 5)),
)


@dataclass
class ProposalModel:
    """What the test expects of one proposal."""

    action: str
    approvers: set[str]
    executed: bool = False


@PROPERTY_SETTINGS
@given(ops=st.lists(governance_op, min_size=1, max_size=12))
def test_fewer_than_m_approvals_change_nothing(world: World, ops: list[tuple[object, ...]]) -> None:
    with world.snapshot():
        registry = world.registry
        actors: list[NonceManager] = [*world.governors, world.outsider]
        status = IssuerStatus.ACTIVE
        proposals: list[tuple[int, ProposalModel]] = []
        base_count = registry.proposal_count()
        for op in ops:
            actor = actors[int(str(op[1]))]
            is_governor = actor is not world.outsider
            if op[0] == "propose":
                action = str(op[2])
                propose = (
                    registry.propose_suspend_issuer
                    if action == "suspend"
                    else registry.propose_reinstate_issuer
                )
                try:
                    outcome = propose(actor, GD)
                except IssuerRegistryNotGovernorError:
                    assert not is_governor
                    continue
                except (IssuerRegistryIssuerNotActiveError, IssuerRegistryIssuerNotSuspendedError):
                    assert is_governor
                    assert _applicable(action, status) is False
                    continue
                assert is_governor
                assert _applicable(action, status)
                assert not outcome.executed  # M = 2: one approval never executes
                proposals.append((outcome.proposal_id, ProposalModel(action, {actor.address})))
            else:
                if not proposals:
                    continue
                proposal_id, model = proposals[int(str(op[2])) % len(proposals)]
                try:
                    outcome = registry.approve(actor, proposal_id)
                except IssuerRegistryNotGovernorError:
                    assert not is_governor
                    continue
                except IssuerRegistryProposalAlreadyExecutedError:
                    assert model.executed
                    continue
                except IssuerRegistryAlreadyApprovedError:
                    assert actor.address in model.approvers
                    continue
                except (IssuerRegistryIssuerNotActiveError, IssuerRegistryIssuerNotSuspendedError):
                    # The M-th approval re-checks the action, which no longer applies.
                    assert not _applicable(model.action, status)
                    continue
                assert is_governor
                assert not model.executed
                assert actor.address not in model.approvers
                model.approvers.add(actor.address)
                assert outcome.executed == (len(model.approvers) >= 2)
                model.executed = outcome.executed
                if outcome.executed:
                    status = (
                        IssuerStatus.SUSPENDED if model.action == "suspend" else IssuerStatus.ACTIVE
                    )
            assert registry.issuer_status(GD) == status
            assert registry.proposal_count() == base_count + len(proposals)
            for proposal_id, model in proposals:
                stored = registry.proposal(proposal_id)
                assert stored.executed == model.executed
                assert stored.approvals == len(model.approvers)


def _applicable(action: str, status: IssuerStatus) -> bool:
    return (action == "suspend") == (status == IssuerStatus.ACTIVE)
