"""``tongban wallet``: a citizen's wallet on the command line (``api.client.wallet`` does the work).

The wallet is a directory (``--wallet DIR``, ``TONGBAN_WALLET``, default
``~/.tongban/wallet``). A command uses the wallet's agent when ``tongban wallet
unlock`` started one for that directory (``api.client.agent``: the keys stay in
its memory), else unlocks with the passphrase in ``TONGBAN_WALLET_PASSPHRASE``
or typed at a terminal prompt: never a command-line argument, which other users
could read in ``ps``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.text import Text

from api.cli.common import JsonOption, err, out, print_json_line, print_text
from api.cli.options import TokenOption, UrlOption, read_json, remote
from api.client.agent_client import find_agent, lock, start_agent
from api.client.agent_socket import MAX_UNLOCK_SECONDS
from api.client.history import AccessHistory, access_history
from api.client.remote import RemoteApi
from api.client.status import refresh_statuses
from api.client.wallet import (
    KnownStatus,
    Wallet,
    WalletError,
    fetch_anchor_proofs,
    issuer_key,
    read_holder,
)
from credentials.anchor_proof import data_integrity_proofs
from credentials.purposes import label
from credentials.times import format_ms
from credentials.vcdm import issuer_of
from ledger.crypto.sm2 import Sm2PublicKey

__all__ = [
    "DEFAULT_UNLOCK_SECONDS",
    "PASSPHRASE_ENV",
    "UNLOCK_SECONDS_ENV",
    "WALLET_ENV",
    "default_wallet_dir",
    "parse_duration",
    "wallet_app",
]

WALLET_ENV = "TONGBAN_WALLET"
PASSPHRASE_ENV = "TONGBAN_WALLET_PASSPHRASE"  # noqa: S105 (the variable's name)
UNLOCK_SECONDS_ENV = "TONGBAN_WALLET_UNLOCK_SECONDS"
DEFAULT_UNLOCK_SECONDS = 15 * 60
"""How long ``wallet unlock`` lasts without ``--for`` or ``TONGBAN_WALLET_UNLOCK_SECONDS``."""
_DURATION = re.compile(r"(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?", re.ASCII)

wallet_app = typer.Typer(
    help="A citizen's wallet: holder key, credentials, presentations, access history.",
    no_args_is_help=True,
)


def default_wallet_dir() -> Path:
    """``~/.tongban/wallet``."""
    return Path.home() / ".tongban" / "wallet"


WalletOption = Annotated[
    Path | None,
    typer.Option(
        "--wallet",
        envvar=WALLET_ENV,
        help="The wallet directory (default ~/.tongban/wallet).",
        show_default=False,
    ),
]


def _passphrase(*, new: bool = False) -> str:
    """The passphrase from the environment, else typed at a terminal, else ``WalletError``."""
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase:
        return passphrase
    if sys.stdin.isatty():
        import getpass  # only when a person is there to type

        typed = getpass.getpass("wallet passphrase: ")
        if new and typed and getpass.getpass("the same again: ") != typed:
            raise WalletError("the two passphrases differ")
        if typed:
            return typed
    if new:
        raise WalletError(f"give the new wallet's passphrase in {PASSPHRASE_ENV}")
    raise WalletError(
        f"the wallet is locked: set {PASSPHRASE_ENV} or run `tongban wallet unlock` at a terminal"
    )


def _directory(wallet: Path | None) -> Path:
    return (wallet or default_wallet_dir()).expanduser()


def _open(wallet: Path | None) -> Wallet:
    directory = _directory(wallet)
    holder = read_holder(directory)  # "no wallet here" before asking for a passphrase
    keys = find_agent(directory)
    # An agent holding another key serves a wallet that was replaced since: not this one.
    if keys is not None and keys.did == holder:
        return Wallet.with_keys(directory, keys)
    return Wallet.open(directory, _passphrase())


def parse_duration(text: str) -> int:
    """Seconds in ``90``, ``90s``, ``15m``, ``2h`` or ``1h30m``; ``WalletError`` otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if text.strip().isdigit():
        seconds = int(text)
    elif match is not None and any(match.groups()):
        hours, minutes, secs = (int(part or 0) for part in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        seconds = 0
    if not 1 <= seconds <= MAX_UNLOCK_SECONDS:
        raise WalletError("--for takes a duration such as 90s, 15m or 1h30m, from 1s to 24h")
    return seconds


def _unlock_seconds(duration: str | None) -> int:
    if duration is not None:
        return parse_duration(duration)
    configured = os.environ.get(UNLOCK_SECONDS_ENV)
    if configured is None:
        return DEFAULT_UNLOCK_SECONDS
    if not configured.strip().isdigit() or not 1 <= int(configured) <= MAX_UNLOCK_SECONDS:
        raise WalletError(f"{UNLOCK_SECONDS_ENV} must be a whole number of seconds, 1 to 86400")
    return int(configured)


@wallet_app.command("create")
def wallet_create(wallet: WalletOption = None, as_json: JsonOption = False) -> None:
    """Create a wallet with a new SM2 holder key; print the holder's did:key."""
    directory = _directory(wallet)
    created = Wallet.create(directory, _passphrase(new=True))
    lock(directory)  # an agent still running for a wallet once in this directory
    if as_json:
        print_json_line({"wallet": str(created.directory), "holder": created.did})
        return
    print_text(f"wallet {created.directory}")
    print_text(f"holder {created.did}")


@wallet_app.command("did")
def wallet_did(wallet: WalletOption = None, as_json: JsonOption = False) -> None:
    """Print the holder's did:key (give it to an issuer)."""
    opened = _open(wallet)
    if as_json:
        print_json_line({"holder": opened.did})
    else:
        print_text(opened.did)


@wallet_app.command("unlock")
def wallet_unlock(
    duration: Annotated[
        str | None,
        typer.Option(
            "--for",
            help=(
                "How long, e.g. 90s, 15m, 1h30m (at most 24h; default 15m or "
                f"{UNLOCK_SECONDS_ENV} seconds)."
            ),
            metavar="DURATION",
            show_default=False,
        ),
    ] = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Unlock the wallet for a while: its agent keeps the keys in memory, no passphrase needed.

    Unlocking again replaces the running agent (with a new expiry);
    `tongban wallet lock` ends it at once.
    """
    directory = _directory(wallet)
    holder = read_holder(directory)
    seconds = _unlock_seconds(duration)
    unlocked = start_agent(directory, _passphrase(), seconds)
    until = format_ms(unlocked.expires_at_ms)
    if as_json:
        print_json_line(
            {
                "wallet": str(directory),
                "holder": holder,
                "unlockedSeconds": seconds,
                "expiresAt": until,
                "agentPid": unlocked.pid,
            }
        )
        return
    print_text(f"wallet {directory} unlocked until {until} (agent pid {unlocked.pid})")


@wallet_app.command("lock")
def wallet_lock(wallet: WalletOption = None, as_json: JsonOption = False) -> None:
    """Lock the wallet now: its agent forgets the keys and exits."""
    directory = _directory(wallet)
    stopped = lock(directory)
    if as_json:
        print_json_line(
            {
                "wallet": str(directory),
                "locked": True,
                "agentPid": stopped,
                "wasUnlocked": stopped is not None,
            }
        )
        return
    state = "locked" if stopped is not None else "was not unlocked"
    print_text(f"wallet {directory} {state}")


def _issuer_public_key(api: RemoteApi, credential: dict[str, Any]) -> Sm2PublicKey:
    issuer = issuer_of(credential)
    proofs = data_integrity_proofs(credential)
    if not issuer or not proofs:
        raise WalletError("refused: the credential names no issuer or proof")
    method = next(
        (p.get("verificationMethod") for p in proofs if isinstance(p, dict) and "cryptosuite" in p),
        None,
    )
    if not isinstance(method, str) or not issuer.startswith("did:tongban:"):
        raise WalletError("refused: the credential's issuer proof names no issuer key")
    return issuer_key(api.get(f"/dids/{issuer}"), method)


@wallet_app.command("receive")
def wallet_receive(
    document: Annotated[
        str, typer.Argument(help="The credential (or `tongban issue --json` answer); - for stdin.")
    ],
    url: UrlOption = None,
    token: TokenOption = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store a credential issued to this wallet's holder, after checking it.

    With --url (any API client's token) the issuer's signature is checked too,
    against the issuer's DID document.
    """
    opened = _open(wallet)
    offered = read_json(document)
    credential = offered.get("credential") if "@context" not in offered else offered
    if not isinstance(credential, dict):
        raise WalletError("refused: the document holds no credential")
    key = None
    if url is not None or os.environ.get("TONGBAN_API_URL"):
        key = _issuer_public_key(remote(url, token), credential)
    claimed = offered.get("digest") if credential is not offered else None
    received = opened.receive(
        credential, issuer_public_key=key, expected_digest=None if claimed is None else str(claimed)
    )
    stored = received.stored
    state = "stored" if received.new else "updated" if received.updated else "already stored"
    if as_json:
        print_json_line(
            {**stored.summary(), "state": state, "issuerSignatureChecked": key is not None}
        )
        return
    anchored = "anchored" if stored.anchored else "not anchored yet"
    print_text(
        f"{state} {stored.digest} {stored.credential_type} from {stored.issuer} ({anchored})"
    )
    if key is None:
        print_text("issuer signature not checked (give --url to check it)", console=err)


@wallet_app.command("list")
def wallet_list(
    show_claims: Annotated[
        bool, typer.Option("--show-claims", help="Also print the claim values.", metavar="")
    ] = False,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the stored credentials: digest, type, issuer, anchored (no claim values)."""
    opened = _open(wallet)
    stored = opened.credentials()
    if as_json:
        print_json_line(
            {
                "holder": opened.did,
                "credentials": [s.summary(show_claims=show_claims) for s in stored],
            }
        )
        return
    if not stored:
        print_text(f"no credentials yet; give an issuer your DID: {opened.did}")
    for entry in stored:
        anchored = "anchored" if entry.anchored else "not anchored"
        until = entry.credential.get("validUntil")
        validity = f", valid until {until}" if until else ""
        print_text(
            f"{entry.digest}  {entry.credential_type}  {entry.issuer}  {anchored}{validity}"
            f"  {_status_text(entry.status)}"
        )
        if show_claims:
            for name, value in entry.claims().items():
                print_text(f"    {name}: {json.dumps(value, ensure_ascii=False)}")


@wallet_app.command("fetch-proofs")
def wallet_fetch_proofs(
    url: UrlOption = None,
    token: TokenOption = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch the anchor proof of every credential without one from the issuer's API.

    Uses a holder-app token. A credential whose batch is not final yet stays
    pending; run the command again later.
    """
    opened = _open(wallet)
    outcomes = fetch_anchor_proofs(opened, remote(url, token, what="the issuer's API"))
    if as_json:
        print_json_line({"results": [{"digest": o.digest, "state": o.state} for o in outcomes]})
        return
    if not outcomes:
        print_text("every credential already has its anchor proof")
    for outcome in outcomes:
        print_text(f"{outcome.digest} {outcome.state}")


@wallet_app.command("print")
def wallet_print(
    digest: Annotated[
        str, typer.Argument(help="The credential's digest (8 to 64 hex characters).")
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="Where to write the PDF.", metavar="FILE.pdf"),
    ],
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a credential as a one-page A4 PDF with its QR code (offline).

    The page and the QR disclose exactly the claims the credential's template
    chooses for print, nothing else; anyone can verify the QR with ``tongban
    verify --qr``. The credential needs its anchor proof (``wallet fetch-proofs``).
    """
    from api.cli.paper import print_to_file

    stored = _open(wallet).get(digest)
    summary = {"digest": stored.digest, **print_to_file(stored.credential, out)}
    if as_json:
        print_json_line(summary)
        return
    print_text(
        f"wrote {summary['out']}: QR version {summary['qrVersion']}-M, "
        f"{summary['qrCharacters']} characters; disclosed: {', '.join(summary['disclosed'])}"
    )


def _status_text(status: KnownStatus | None) -> str:
    if status is None:
        return "status not checked (tongban wallet status)"
    if status.usable:
        return f"active as of {status.checked_at}"
    return f"{status.describe().upper()} as of {status.checked_at}"


@wallet_app.command("status")
def wallet_status(
    url: UrlOption = None,
    token: TokenOption = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask the issuing province whether its credentials in the wallet are revoked or suspended.

    Uses a holder-app token; the answers are kept, so `wallet list` shows them and
    `wallet present` refuses a revoked or suspended credential (unless --force).
    """
    opened = _open(wallet)
    checks = refresh_statuses(opened, remote(url, token, what="the issuer's API"))
    if as_json:
        print_json_line(
            {
                "results": [
                    {"digest": c.digest, **({} if c.status is None else c.status.to_json())}
                    for c in checks
                ]
            }
        )
        return
    for check in checks:
        state = "not this issuer's" if check.status is None else _status_text(check.status)
        print_text(f"{check.digest} {state}")


def _challenge(
    challenge: str | None, domain: str | None, verifier: str | None, token: str | None
) -> tuple[str, str]:
    if verifier is not None:
        if challenge is not None or domain is not None:
            raise click.UsageError("give --verifier or --challenge/--domain, not both")
        offer = remote(verifier, token, what="the verifier's API").post("/challenges", {})
        if not isinstance(offer, dict):
            raise WalletError("the verifier's challenge answer is malformed")
        challenge, domain = offer.get("challenge"), offer.get("domain")
        if not isinstance(challenge, str) or not isinstance(domain, str):
            raise WalletError("the verifier's challenge answer is malformed")
        return challenge, domain
    if challenge is None or domain is None:
        raise click.UsageError("give --challenge and --domain, or --verifier URL")
    return challenge, domain


@wallet_app.command("present")
def wallet_present(
    digest: Annotated[str, typer.Argument(help="The credential's digest (or its first 8+ hex).")],
    claims: Annotated[
        str, typer.Option(help="Claims to disclose, comma-separated (none: clear claims only).")
    ] = "",
    challenge: Annotated[str | None, typer.Option(help="The verifier's challenge.")] = None,
    domain: Annotated[str | None, typer.Option(help="The verifier's DID.")] = None,
    verifier: Annotated[
        str | None, typer.Option(help="Fetch challenge and domain from this verifier API.")
    ] = None,
    token: TokenOption = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the presentation here (mode 0600).")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Present even a credential last reported revoked or suspended.",
            metavar="",
        ),
    ] = False,
    purpose: Annotated[
        str | None,
        typer.Option(
            help="Bind the presentation to this purpose code (用证事由, `GET /purposes`): "
            "a verifier declaring another purpose refuses it."
        ),
    ] = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sign a presentation of one credential disclosing only the chosen claims.

    The presentation is printed as one JSON line, or written to --out (then --json
    prints where, as JSON).
    """
    opened = _open(wallet)
    names = [name.strip() for name in claims.split(",") if name.strip()]
    chosen_challenge, chosen_domain = _challenge(challenge, domain, verifier, token)
    presentation = opened.present(
        [(digest, names)],
        challenge=chosen_challenge,
        domain=chosen_domain,
        force=force,
        purpose=purpose,
    )
    if purpose is not None and not label(purpose).listed:
        # Well formed by now (the holder refuses any other), so it may be shown.
        print_text(
            f"note: the purpose {purpose} is not in the purpose catalogue (GET /purposes)",
            console=err,
        )
    text = json.dumps(presentation, ensure_ascii=False)
    if out_file is None:
        print_json_line(presentation)
        return
    out_file.touch(mode=0o600, exist_ok=True)
    out_file.write_text(text + "\n", encoding="utf-8")
    if as_json:
        print_json_line({"file": str(out_file), "domain": chosen_domain, "holder": opened.did})
        return
    print_text(f"presentation for {chosen_domain} written to {out_file}", console=err)


@wallet_app.command("redeem")
def wallet_redeem(
    offer: Annotated[str, typer.Argument(help="An openid-credential-offer:// link or its URL.")],
    tx_code: Annotated[
        str | None, typer.Option(help="The code sent separately (or TONGBAN_TX_CODE).")
    ] = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Redeem an issuer's credential offer (OpenID4VCI); creates the wallet if need be."""
    from api.cli.offers import redeem_into_wallet

    redeem_into_wallet(offer, tx_code, wallet, as_json)


@wallet_app.command("respond")
def wallet_respond(
    url: Annotated[str, typer.Argument(help="The request: an openid4vp:// link or its URL.")],
    claims: Annotated[
        str, typer.Option(help="Disclose only these of the claims asked for, comma-separated.")
    ] = "",
    force: Annotated[
        bool, typer.Option("--force", help="Present even a credential last reported revoked.")
    ] = False,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a verifier's presentation request (OpenID4VP direct_post, docs/oid4vp.md)."""
    from api.client.oid4vp import read_request, respond

    opened = _open(wallet)
    request = read_request(url)
    names = tuple(n.strip() for n in claims.split(",") if n.strip()) or None
    answer = respond(opened, request, names, force=force)
    verdict = answer.get("tongban_verdict")
    if as_json:
        print_json_line({"answered": True, "verdict": verdict})
        return
    print_text(f"answered the verifier's request; its verdict: {verdict}")


def _print_history(history: AccessHistory) -> None:
    anchored = (
        f"anchored up to event {history.anchored_tree_size}"
        if history.anchored_tree_size is not None
        else "no anchored checkpoint yet"
    )
    print_text(f"log {history.log_id}: {len(history.entries)} accesses to your data ({anchored})")
    for entry in history.entries:
        proof = {"anchored": "proved in the anchored log", "receipt": "receipt checked"}.get(
            entry.proof, f"MISMATCH: {entry.problem}"
        )
        org = (
            entry.actor_org
            if entry.agency_name is None
            else f"{entry.agency_name}, {entry.actor_org}"
        )
        line = Text(
            f"{entry.time}  {entry.actor} ({org})  {entry.action}  "
            f"{entry.resource}  purpose {label(entry.purpose).text()}, "
            f"legal basis {entry.legal_basis}  "
            f"{entry.outcome}  "
        )
        line.append(proof, "green" if entry.proof == "anchored" else "red" if entry.problem else "")
        out.print(line, soft_wrap=True)


@wallet_app.command("history")
def wallet_history(
    url: UrlOption = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who accessed your data at a province: asked with your key, checked locally.

    Exit status 1 when a record's receipt or inclusion proof does not check out.
    """
    opened = _open(wallet)
    target = url or os.environ.get("TONGBAN_API_URL")
    if not target:
        raise click.UsageError("give the province API with --url")
    history = access_history(opened, RemoteApi(target))
    if as_json:
        print_json_line(
            {
                "holder": history.holder,
                "logId": history.log_id,
                "generatedAt": history.generated_at,
                "anchoredTreeSize": history.anchored_tree_size,
                "consistent": history.consistent,
                "records": [
                    {**e.to_json(), "purposeLabel": label(e.purpose).to_json()}
                    for e in history.entries
                ],
            }
        )
    else:
        _print_history(history)
    if not history.consistent:
        raise typer.Exit(1)
