"""The chain: reaching a node, the consortium's contracts, the outbox and the index.

``node/`` reaches a node (``node.connection.open_chain`` turns one setting,
``embedded``, ``anvil`` or an http(s) URL, into a connected chain;
``node.transactions.NonceManager`` sends locally signed transactions);
``contracts/`` binds the contracts; ``outbox`` sends their transactions
durably and ``index`` keeps the chain state the verifier reads.
"""
