"""The chain-state index: consortium contract events kept in the store, read without RPC.

Verifiers must answer without a JSON-RPC round trip per request, and several
worker processes must see the same chain state. ``ChainIndex`` follows the
events of one ``IssuerRegistry`` and one ``CredentialAnchor`` into store tables:

- issuers (admitted, suspended, reinstated) and their SM2 keys (added with a
  valid-from time, retired, marked compromised from a time);
- anchored roots: (issuer, root) -> block number, block time, tree size;
- digest statuses (revoked, suspended, reinstated), latest change wins.

It knows nothing of certificates. Every answer comes with ``height``, the last
block whose events are all in the index.

Following the chain (``sync``), one writer at a time (any process; the store's
write lock serialises them, and no writer lease is needed):

1. ``head`` is the node's latest block; the index goes up to
   ``head - confirmations + 1`` (``confirmations=1``: up to the head).
2. Reorgs: the index keeps the hash of the last block it indexed and of every
   block that held an event. If the chain no longer has the stored hash at the
   indexed height, it walks back through the stored hashes until one still
   matches; everything above that block is deleted and read again. If none
   matches within ``max_reorg_walk`` stored blocks, the index is rebuilt from
   ``start_block``.
3. Logs are read in chunks of at most ``max_block_range`` blocks, and applied
   in one store transaction per chunk together with the new height, so a
   reader sees either all of a chunk's events or none.

Reads (``view()``) run in one read transaction, so all answers in a view
reflect the same height. The index is bound to one chain id and two contract
addresses; a store indexed for other ones is refused.

Modules: ``schema`` (tables, height bookkeeping), ``events`` (event -> rows),
``follower`` (``ChainIndex``: sync, reorgs, the background loop) and ``view``
(``IndexView`` and its records). The names below are importable from the
package itself.
"""

from ledger.chain.index.follower import ChainIndex, SyncReport
from ledger.chain.index.schema import MIGRATIONS
from ledger.chain.index.view import IndexedAnchor, IndexedIssuer, IndexedStatus, IndexView

__all__ = [
    "MIGRATIONS",
    "ChainIndex",
    "IndexView",
    "IndexedAnchor",
    "IndexedIssuer",
    "IndexedStatus",
    "SyncReport",
]
