"""The wallet agent's ``present`` operation binds the purpose it is asked for (docs/purposes.md).

In process: the agent's request handler over the same local keys the agent
process holds (the socket and the process are ``tests/api/cli/test_wallet_agent.py``'s).
"""

from __future__ import annotations

from typing import Any

from api.client.agent import Agent, now
from api.client.vault import LocalKeys
from credentials.verify.offline import holder_proof
from credentials.verify.outcome import Passed
from ledger.crypto.sm2 import Sm2PrivateKey


def _agent() -> Agent:
    return Agent("wallet", LocalKeys(Sm2PrivateKey.generate()), now() + 60, 0)


def _request(agent: Agent, **extra: Any) -> dict[str, Any]:
    credential = {"id": "urn:uuid:0", "credentialSubject": {"id": agent.keys.did}}
    return {
        "op": "present",
        "credentials": [{"credential": credential, "claims": []}],
        "challenge": "c",
        "domain": "did:tongban:1:2",
        **extra,
    }


def test_the_agent_binds_the_purpose_under_the_holder_proof() -> None:
    agent = _agent()
    answer = agent.answer(_request(agent, purpose="audit.review"))
    presentation = answer["presentation"]
    assert presentation["termsOfUse"] == {"type": "TongbanPurposeOfUse", "purpose": "audit.review"}
    assert isinstance(holder_proof(presentation), Passed)


def test_a_request_without_purpose_is_unbound_as_from_an_older_wallet() -> None:
    agent = _agent()
    presentation = agent.answer(_request(agent))["presentation"]
    assert "termsOfUse" not in presentation


def test_the_agent_refuses_a_malformed_purpose_without_echoing_it() -> None:
    agent = _agent()
    refused = agent.answer(_request(agent, purpose="id 110101199003071234"))
    assert refused["code"] == "refused"
    assert "110101199003071234" not in refused["error"]
    assert agent.answer(_request(agent, purpose=7))["code"] == "bad-request"
