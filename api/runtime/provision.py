"""Make the chain agree with this province's configuration before serving.

At start, after the contracts are known, the service checks its issuer in the
registry and does what its own account is allowed to do:

- the issuer must be admitted (governance's decision): otherwise start-up
  stops with the account the governors must name as admin. The one exception
  is a local trial where this account is the only governor (threshold 1): it
  admits its own issuer, since that decision is its alone anyway;
- if this service's account is the issuer's admin, it appoints itself as a
  writer and registers every signing key of its keystore that the registry
  lacks (valid from the block's time: no backdating);
- if it is only a writer, the admin must have registered the signing keys.

Everything here is idempotent: a restart finds it done and sends nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from api.province.keys import ProvinceKeys
from api.runtime.settings import SettingsError
from ledger.chain.contracts.registry import IssuerRegistry, IssuerStatus
from ledger.chain.node.client import checksum
from ledger.chain.node.transactions import NonceManager

__all__ = ["ProvisionReport", "provision_issuer"]

log = logging.getLogger(__name__)


@dataclass
class ProvisionReport:
    """What start-up found and did on chain for the issuer."""

    issuer_id: int
    status: IssuerStatus
    is_admin: bool
    writer_added: bool = False
    keys_added: list[str] = field(default_factory=list)


def provision_issuer(
    registry: IssuerRegistry,
    sender: NonceManager,
    issuer_id: int,
    keys: ProvinceKeys,
    *,
    division_code: int,
    name: str,
) -> ProvisionReport:
    """Check issuer ``issuer_id`` and bring writers and keys up to date (see the module)."""
    own = checksum(sender.address)
    status = registry.issuer_status(issuer_id)
    if status is IssuerStatus.NONE and registry.is_governor(own) and registry.threshold() == 1:
        # A local trial: this account alone governs, so admitting itself is its own decision.
        registry.propose_admit_issuer(sender, issuer_id, division_code, name, own)
        status = registry.issuer_status(issuer_id)
    if status is IssuerStatus.NONE:
        raise SettingsError(
            f"issuer {issuer_id} (TONGBAN_ISSUER_ID) is not admitted on this chain; the "
            f"governors must admit it with admin {own}"
        )
    info = registry.issuer(issuer_id)
    report = ProvisionReport(issuer_id, status, checksum(info.admin) == own)
    if status is IssuerStatus.SUSPENDED:
        log.warning("issuer is suspended: no anchoring until governance reinstates it")
        return report
    current, _ever = registry.writer_status(issuer_id, own)
    if report.is_admin:
        if not current:
            registry.add_writer(sender, issuer_id, own)
            report.writer_added = True
        registered = {k.key_id for k in registry.keys(issuer_id)}
        for key_id in keys.signing_key_ids():
            if key_id not in registered:
                registry.add_key(sender, issuer_id, key_id, keys.public_key(key_id).compressed())
                report.keys_added.append(key_id)
    elif not current:
        raise SettingsError(
            f"this service's account {own} is neither the admin nor a writer of issuer "
            f"{issuer_id}; the issuer's admin must appoint it (addWriter)"
        )
    else:
        registered = {k.key_id for k in registry.keys(issuer_id)}
        if not registered & set(keys.signing_key_ids()):
            raise SettingsError(
                f"no signing key of this service is registered for issuer {issuer_id}; "
                "the issuer's admin must add one (see docs/operations.md)"
            )
    if report.writer_added or report.keys_added:
        log.info(
            "issuer provisioned",
            extra={"writer_added": report.writer_added, "keys_added": report.keys_added},
        )
    return report
