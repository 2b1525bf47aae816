"""The verifier page's work: the form's input to a document, the audited verification, the view.

The same province functions as ``POST /credentials/verify``, ``/presentations/verify``
and ``/documents/verify`` (``credentials.verify.vcapi``, ``Verifier.access_event``,
``api.province.access``): a page verification is the same audited call, its access
event's caller the signed-in staff member (``api.portal.staff.staff_caller``).

Input: pasted text (JSON, or the ``TB1:`` text a camera scan put there), or one
uploaded file (JSON, a PNG/JPEG image or a PDF whose QR code is decoded here with
zxing-cpp, so the counter PC needs no script); optionally the certificate file,
checked against the credential's ``relatedResource``. Nothing of the input is
logged or echoed in an error (``PageInputError`` carries a catalogue key only).
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from api.http.context import ProvinceContext
from api.province.access import Declaration, record_access, record_presentation
from credentials import ijson
from credentials.anchor_proof import anchor_proof_of
from credentials.disclosure import reveal
from credentials.errors import InputRejectedError
from credentials.file_binding import FileFacts, check_facts, inspect_file
from credentials.paper.codec import PaperCodecError
from credentials.paper.codec import decode as decode_tb1
from credentials.paper.envelope import envelope, scanned_text
from credentials.paper.printing import on_paper
from credentials.reasons import Check, CheckStatus
from credentials.verify import CREDENTIAL_VERIFY, PRESENTATION_VERIFY, VerificationRequest
from credentials.verify.outcome import Failed, Passed
from credentials.verify.vcapi import Malformed, VcApiVerification, check_request, verify
from ledger.audit.events import Caller, Outcome

__all__ = [
    "PageInputError",
    "Submitted",
    "Verified",
    "read_document",
    "run_verification",
    "scan_qr",
    "verdict_key",
]

TB1_PREFIX = "TB1:"
BEIJING = timezone(timedelta(hours=8), "UTC+8")
SCAN_DPI = 150
_JSON_START = (b"{", b"[")


class PageInputError(ValueError):
    """The form's input cannot be verified; ``key`` names the page text that says why."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.detail = detail


@dataclass(frozen=True)
class Submitted:
    """What the form sent (bytes stay in memory for this request only)."""

    text: str
    upload: bytes
    certificate: bytes
    declaration: Declaration


@dataclass(frozen=True)
class Verified:
    """A decided verification and what the page shows of it."""

    checked: VcApiVerification
    on_paper: bool
    file: Mapping[str, Any] | None
    claims: tuple[tuple[str, Any], ...]
    issuer: str | None
    anchor_block: int | None
    anchor_time: str | None


def _image(data: bytes) -> Any:
    if data.startswith(b"%PDF-"):
        import pypdfium2

        try:
            document = pypdfium2.PdfDocument(data)
            if len(document) < 1:
                raise PageInputError("error_bad_image")
            return document[0].render(scale=SCAN_DPI / 72).to_pil()
        except pypdfium2.PdfiumError:
            raise PageInputError("error_bad_image") from None
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        raise PageInputError("error_not_json") from None
    return image


def scan_qr(data: bytes) -> str:
    """The one Tongban (``TB1:``) QR text of a PNG/JPEG image or a PDF's first page."""
    import zxingcpp

    found = zxingcpp.read_barcodes(_image(data))
    texts = list(
        dict.fromkeys(
            r.text
            for r in found
            if r.format == zxingcpp.BarcodeFormat.QRCode and r.text.startswith(TB1_PREFIX)
        )
    )
    if not texts:
        raise PageInputError("error_no_qr")
    if len(texts) > 1:
        raise PageInputError("error_many_qr")
    return texts[0]


def _parse(data: bytes, context: ProvinceContext) -> Any:
    limits = context.limits
    try:
        return ijson.parse(
            data, ijson.Limits(limits.batch_body_bytes, limits.max_depth, limits.max_array)
        )
    except InputRejectedError:
        raise PageInputError("error_not_json") from None


def read_document(submitted: Submitted, context: ProvinceContext) -> Any:
    """The credential or presentation the form carries (an enveloped TB1 for a QR)."""
    text = submitted.text.strip()
    if text and submitted.upload:
        raise PageInputError("error_both_inputs")
    if not text and not submitted.upload:
        raise PageInputError("error_no_input")
    if text.startswith(TB1_PREFIX):
        return envelope(text)
    if text:
        return _parse(text.encode("utf-8"), context)
    if submitted.upload.lstrip()[:1] in _JSON_START:
        return _parse(submitted.upload, context)
    return envelope(scan_qr(submitted.upload))


def _kind(document: Any) -> str:
    types = document.get("type") if isinstance(document, dict) else None
    named = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    return "presentation" if "VerifiablePresentation" in named else "credential"


def _unwrap(document: Any) -> Any:
    """A VC API request body pasted whole: its credential or presentation."""
    if isinstance(document, dict) and len(document) == 1:
        for member in ("verifiableCredential", "verifiablePresentation"):
            if member in document:
                return document[member]
    return document


def _claims(document: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict):
        return ()
    disclosures = document.get("disclosures")
    shown = reveal(subject, disclosures) if isinstance(disclosures, list) else dict(subject)
    shown.pop("_sd", None)
    return tuple((name, value) for name, value in shown.items() if name != "id")


def _first_credential(kind: str, document: Mapping[str, Any]) -> Mapping[str, Any]:
    if kind == "credential":
        return document
    inner = document.get("verifiableCredential")
    if isinstance(inner, list) and inner and isinstance(inner[0], dict):
        first: Mapping[str, Any] = inner[0]
        return first
    if isinstance(inner, dict):
        return inner
    return {}


def _anchored(
    context: ProvinceContext, checked: VcApiVerification, credential: Mapping[str, Any]
) -> tuple[int | None, str | None]:
    """The anchoring block and its time (UTC+8) as the chain index has them.

    Only once check (3) verified the inclusion in a root the issuer anchored: the
    page never shows an anchor it did not check.
    """
    checks = checked.result.checks
    if len(checks) <= Check.ANCHOR or checks[Check.ANCHOR].status is not CheckStatus.VALID:
        return None, None
    proof = anchor_proof_of(credential)
    if not isinstance(proof, Mapping) or context.index is None:
        return None, None
    issuer_id, root = proof.get("issuerId"), proof.get("root")
    if type(issuer_id) is not int or not isinstance(root, str):
        return None, None
    with context.index.view() as view:
        found = view.anchor(issuer_id, bytes.fromhex(root))
    if found is None:
        return None, None
    when = datetime.fromtimestamp(found.block_time, BEIJING)
    return found.block_number, when.strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"


def _file_view(outcome: Passed[Any] | Failed, facts: FileFacts) -> dict[str, Any]:
    return {
        "matched": isinstance(outcome, Passed),
        "reason": "ok" if isinstance(outcome, Passed) else outcome.reason.value,
        "digest": facts.digest.hex(),
        "size": facts.size,
    }


def run_verification(
    context: ProvinceContext, caller: Caller, request_id: str, submitted: Submitted
) -> Verified | Malformed:
    """Verify what the form carries and record its access event (a verdict: no event, no view).

    Raises ``PageInputError`` for input that is not a document, ``AccessNotRecordedError``
    when the event cannot be recorded; a malformed request is returned (no access, no event).
    """
    verifier = context.verifier
    if verifier is None:
        raise PageInputError("verdict_error")
    document = _unwrap(read_document(submitted, context))
    kind = _kind(document)
    declared = submitted.declaration
    request = VerificationRequest(caller, declared.purpose, declared.legal_basis, request_id)
    if kind == "presentation":
        if submitted.certificate:
            raise PageInputError("error_file_with_presentation")

        def evaluate() -> tuple[VcApiVerification | Malformed, Any]:
            checked = verify(verifier, "presentation", document, None, purpose=declared.purpose)
            if isinstance(checked, Malformed):
                raise _MalformedError(checked)
            return checked, verifier.access_event(checked.result, request, PRESENTATION_VERIFY)

        try:
            checked = record_presentation(context.audit_log, caller, evaluate)
        except _MalformedError as signal:
            return signal.malformed
        if not isinstance(checked, VcApiVerification):
            return checked
        return _view(context, checked, on_paper_=False, file=None)
    options = check_request("credential", document, None)
    if isinstance(options, Malformed):
        return options
    try:
        scanned = scanned_text(document)
        decoded = None if scanned is None else decode_tb1(scanned)
    except PaperCodecError:
        raise PageInputError("error_not_tb1") from None
    if decoded is not None:
        result = on_paper(verifier.evaluate_parsed_credential(decoded))
        checked = VcApiVerification("credential", result, decoded, options)
    else:
        result = verifier.evaluate_parsed_credential(document)
        checked = VcApiVerification("credential", result, document, options)
    event = verifier.access_event(checked.result, request, CREDENTIAL_VERIFY)
    file_view = None
    if submitted.certificate:
        facts = inspect_file(submitted.certificate)
        outcome = check_facts(checked.document, facts)
        file_view = _file_view(outcome, facts)
        if isinstance(outcome, Failed) and event.outcome is Outcome.SUCCESS:
            event = dataclasses.replace(event, outcome=Outcome.INVALID)
    record_access(context.audit_log, caller, [event], verdict=True)
    return _view(context, checked, on_paper_=decoded is not None, file=file_view)


class _MalformedError(Exception):
    def __init__(self, malformed: Malformed) -> None:
        super().__init__("malformed")
        self.malformed = malformed


def _view(
    context: ProvinceContext,
    checked: VcApiVerification,
    *,
    on_paper_: bool,
    file: Mapping[str, Any] | None,
) -> Verified:
    credential = _first_credential(checked.kind, checked.document)
    block, when = _anchored(context, checked, credential)
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return Verified(
        checked=checked,
        on_paper=on_paper_,
        file=file,
        claims=_claims(credential),
        issuer=issuer if isinstance(issuer, str) else None,
        anchor_block=block,
        anchor_time=when,
    )


def verdict_key(verified: Verified) -> str:
    """The page text key of the verdict (a file mismatch makes a valid credential invalid)."""
    verdict = verified.checked.result.verdict
    if verdict is CheckStatus.VALID and verified.file is not None and not verified.file["matched"]:
        return "verdict_invalid"
    if verdict is CheckStatus.VALID:
        return "verdict_valid"
    if verdict is CheckStatus.ERROR:
        return "verdict_error"
    if verdict is CheckStatus.INVALID:
        return "verdict_invalid"
    return "verdict_unregistered"
