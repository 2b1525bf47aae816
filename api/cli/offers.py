"""``tongban offers create`` (issuer system) and ``tongban wallet redeem`` (citizen).

``offers create`` asks the province for a credential offer (``POST
/credential-offers``, docs/oid4vci.md) and prints its ``openid-credential-offer://``
link (for a QR code or a page) and the ``tx_code``, which the issuer system sends
to the citizen by another channel. ``wallet redeem LINK`` (declared in
``api.cli.wallet``, done by ``redeem_into_wallet``) redeems it into the wallet, creating the
wallet first when there is none; the ``tx_code`` comes from ``--tx-code``,
``TONGBAN_TX_CODE`` or a prompt at a terminal.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import JsonOption, err, print_json_line, print_text
from api.cli.options import TokenOption, UrlOption, declaration, read_json, remote
from api.cli.wallet import _directory, _passphrase
from api.client.errors import WalletError
from api.client.oid4vci import read_offer, redeem
from api.client.vault import KEY_ID, LocalKeys
from api.client.wallet import Wallet
from credentials.holder import Holder
from ledger.crypto.errors import KeystoreError
from ledger.crypto.keystore import Keystore

__all__ = ["TX_CODE_ENV", "offers_app", "redeem_into_wallet"]

TX_CODE_ENV = "TONGBAN_TX_CODE"

offers_app = typer.Typer(
    help="Credential offers for citizens without a DID yet (OpenID4VCI pre-authorized code).",
    no_args_is_help=True,
)

PURPOSE_HELP = "Why the claims are handled (a purpose code, docs/purposes.md)."
LEGAL_BASIS_HELP = "The legal basis (e.g. prc.pipl.art13)."


@offers_app.command("create")
def offers_create(
    template: Annotated[str, typer.Option(help="Template, e.g. business-licence.")],
    claims_file: Annotated[
        str, typer.Option("--claims-file", help="JSON object of the claims: a file, or -.")
    ],
    agency: Annotated[
        str | None, typer.Option(help="The issuing agency's 统一社会信用代码.")
    ] = None,
    tx_code_description: Annotated[
        str | None,
        typer.Option(help="How the citizen gets the tx_code (shown by the wallet)."),
    ] = None,
    purpose: Annotated[str, typer.Option(help=PURPOSE_HELP)] = "credential.issuance",
    legal_basis: Annotated[str, typer.Option(help=LEGAL_BASIS_HELP)] = "prc.pipl.art13",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Offer a credential: prints the offer link, then the tx_code to send out of band."""
    api = remote(url, token, what="the issuing province's API")
    body: dict[str, object] = {"template": template, "claims": read_json(claims_file)}
    if agency is not None:
        body["agency"] = agency
    if tx_code_description is not None:
        body["txCodeDescription"] = tx_code_description
    headers = declaration(purpose, legal_basis) | {
        "Idempotency-Key": "offer-" + secrets.token_hex(16)
    }
    answer = api.post("/credential-offers", body, headers=headers)
    if as_json:
        print_json_line(answer)
        return
    print_text(str(answer["credentialOffer"]))
    print_text(
        f"tx_code {answer['txCode']} (send it to the citizen by another channel)", console=err
    )


def _tx_code(given: str | None) -> str:
    value = given or os.environ.get(TX_CODE_ENV)
    if value:
        return value.strip()
    if sys.stdin.isatty():
        import getpass  # only when a person is there to type

        typed = getpass.getpass("tx_code (sent to you separately): ").strip()
        if typed:
            return typed
    raise WalletError(f"give the tx_code with --tx-code or {TX_CODE_ENV}")


def _holder_wallet(directory_option: Path | None) -> tuple[Wallet, Holder, bool]:
    directory = _directory(directory_option)
    created = not (directory / "wallet.json").exists()
    passphrase = _passphrase(new=created)
    if created:
        Wallet.create(directory, passphrase)
    try:
        private_key = Keystore(directory / "keys").load(KEY_ID, passphrase)
    except (KeystoreError, ValueError):
        raise WalletError(
            "cannot unlock the wallet: wrong passphrase or damaged key file"
        ) from None
    wallet = Wallet.with_keys(directory, LocalKeys(private_key))
    return wallet, Holder(private_key), created


def redeem_into_wallet(offer: str, tx_code: str | None, wallet: Path | None, as_json: bool) -> None:
    """``tongban wallet redeem``: redeem an issuer's offer into the wallet (docs/oid4vci.md).

    Creates the wallet (and its holder key) first when there is none. The
    passphrase is asked as for every wallet command; the wallet agent is not used
    (the key proof is signed here).
    """
    found = read_offer(offer)
    code = _tx_code(tx_code)
    opened, holder, created = _holder_wallet(wallet)
    credential = redeem(found, code, holder)
    stored = opened.receive(credential).stored
    if as_json:
        print_json_line({**stored.summary(), "walletCreated": created, "state": "stored"})
        return
    if created:
        print_text(f"created a wallet for {opened.did}", console=err)
    print_text(f"stored {stored.digest} {stored.credential_type} from {stored.issuer}")
