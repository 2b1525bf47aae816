"""``GET /dids/{did}``: issuer DIDs from the chain index, holder DIDs from themselves."""

from __future__ import annotations

from pathlib import Path

from api.errors import ProblemCode
from api.http.schemas.credentials import DidDocumentOut
from api.province.clients import Role
from credentials.did import did_key_document, issuer_did
from credentials.holder import Holder
from ledger.crypto import multikey
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.credentials import ZJ_KEY
from tests.helpers.provinces import served_province
from tests.helpers.routes import problem


def test_issuer_and_holder_dids_resolve_at_another_province(world: World, tmp_path: Path) -> None:
    chain_id = world.client.chain_id
    with served_province(world, tmp_path, GD) as guangdong:
        zhejiang = issuer_did(chain_id, ZJ)
        reply = guangdong.request("GET", f"/dids/{zhejiang}", Role.AUDITOR)
        assert reply.status == 200, reply.text
        document = reply.json()
        DidDocumentOut.model_validate(document)
        assert document["id"] == zhejiang
        [method] = document["verificationMethod"]
        assert method["id"] == f"{zhejiang}#key-1"
        assert method["controller"] == zhejiang
        assert method["publicKeyMultibase"] == multikey.encode(ZJ_KEY.public_key)
        assert method["keyValidFrom"].endswith("Z")
        assert document["assertionMethod"] == [method["id"]]

        own = guangdong.request("GET", f"/dids/{guangdong.did}", Role.VERIFIER).json()
        assert [m["id"].rsplit("#", 1)[1] for m in own["verificationMethod"]] == [
            "key-1",
            "key-1x",
        ]

        holder = Holder.generate()
        reply = guangdong.request("GET", f"/dids/{holder.did}", Role.HOLDER)
        assert reply.status == 200, reply.text
        assert reply.json() == did_key_document(holder.did)

        for unknown in (issuer_did(chain_id + 1, ZJ), issuer_did(chain_id, 77)):
            reply = guangdong.request("GET", f"/dids/{unknown}", Role.ISSUER)
            problem(reply, 404, ProblemCode.NOT_FOUND)
        for malformed in ("did:web:example.com", "did:key:z" + "1" * 45):
            reply = guangdong.request("GET", f"/dids/{malformed}", Role.ISSUER)
            refused = problem(reply, 422, ProblemCode.VALIDATION_FAILED)
            assert refused["errors"][0]["field"] == "did"
            assert malformed not in reply.text
        problem(guangdong.request("GET", f"/dids/{zhejiang}"), 401, ProblemCode.UNAUTHENTICATED)
