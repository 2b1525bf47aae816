"""The consoles' pages without a browser (``api.portal.console``, docs/consoles.md).

Over a real province and the test chain, with the page dependency
``CONSOLE_STAFF`` replaced by a ``StaffSession`` as the sign-in package builds
it (tests/portal/helpers.py says why; the sign-in itself is tested over the
real provider in test_browser_console.py):

- ``/console/`` sends each role to its console; a staff member without the role
  gets the portal's 403 page and an ``api.denied`` event naming them;
- the audit console's reads (search, an event, anomalies, export) are
  ``audit.read`` accesses as the route table says, recorded under the purpose
  the auditor declares; none without the form's CSRF token;
- the event page lays out the receipt and inclusion proof and hands them to
  the browser in ``#browser-proof``; an event altered in the store is flagged
  there and by the export check;
- the operator's actions record the API routes' events; a new client's token is
  shown once;
- every word is in both languages, and no page carries personal data.
"""

# The pages' Chinese words are matched as written, full-width punctuation included.
# ruff: noqa: RUF001

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlencode

import pytest

from api.http.app import create_app
from api.http.routes.table import ROUTE_TABLE
from api.http.signin import StaffSession
from api.portal.console.gate import CONSOLE_STAFF
from api.portal.console.words import CONSOLE_TEXT
from api.portal.labels import PAGE_TEXT
from api.province.clients import Role
from credentials.holder import Holder
from ledger.audit.events import AccessEvent
from tests.helpers.certificate_files import form_body
from tests.helpers.contracts import GD, World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue
from tests.helpers.server import ApiServer, Reply
from tests.portal.helpers import ACTOR, CSRF, SUBJECT, staff, visible_text

HTML = {"Accept": "text/html"}
FORM = {"Content-Type": "application/x-www-form-urlencoded", **HTML}
LICENCE = "business-licence"
DECLARED = {"purpose": "audit.review", "legal_basis": "prc.pipl.art13"}
AUDITOR = staff(frozenset({"auditor"}))
OPERATOR = staff(frozenset({"operator"}))
CLERK = staff(frozenset({"verifier"}))


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path) as served:
        yield served


@contextmanager
def console(province: ServedProvince, session: StaffSession) -> Iterator[ApiServer]:
    """The province's app with ``session`` signed in."""
    app = create_app(province.context)
    app.dependency_overrides[CONSOLE_STAFF] = lambda: session
    server = ApiServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _post(server: ApiServer, path: str, fields: Mapping[str, str | list[str]]) -> Reply:
    body = urlencode(fields, doseq=True).encode()
    return server.request("POST", path, body=body, headers=FORM)


def _new_events(province: ServedProvince, before: int) -> list[AccessEvent]:
    return events(province)[before:]


def _size(province: ServedProvince) -> int:
    return province.parts.audit_log.size()


def _as_table(path_key: tuple[str, str], recorded: list[AccessEvent]) -> None:
    use = ROUTE_TABLE[path_key]
    actions = [e.action for e in recorded]
    assert actions == [*use.access_events, *use.admin_events], (path_key, actions)


def _verified_licence(province: ServedProvince) -> tuple[str, dict[str, str]]:
    """Issue, anchor and verify (over the API) one licence: the holder DID and claims."""
    holder = Holder.generate().did
    claims = dict(CLAIMS_BY_TEMPLATE[LICENCE])
    digest = issue(province, holder, template=LICENCE, claims=claims)["digest"]
    province.anchor_all()
    read = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    credential = read.json()["credential"]
    verified = province.request(
        "POST",
        "/credentials/verify",
        Role.VERIFIER,
        json_body={"verifiableCredential": credential},
        headers=PERSONAL,
    )
    assert verified.status == 200, verified.text
    return holder, {k: str(v) for k, v in claims.items()}


def _checkpoint(province: ServedProvince) -> None:
    province.parts.checkpoints.maybe_checkpoint(force=True)
    province.anchor_all()


def test_the_console_home_sends_each_role_to_its_console(province: ServedProvince) -> None:
    for session, target in ((AUDITOR, "/console/audit"), (OPERATOR, "/console/operator")):
        with console(province, session) as server:
            reply = server.request("GET", "/console/", headers=HTML)
            assert reply.status == 303
            assert reply.header("Location") == target


@pytest.mark.parametrize("path", ["/console/", "/console/audit", "/console/operator"])
def test_a_staff_member_without_the_role_gets_the_403_page_and_an_api_denied_event(
    province: ServedProvince, path: str
) -> None:
    before = _size(province)
    with console(province, CLERK) as server:
        reply = server.request("GET", path, headers=HTML)
    assert reply.status == 403
    assert 'id="page-error"' in reply.text
    assert (reply.header("Content-Type") or "").startswith("text/html")
    recorded = _new_events(province, before)
    assert [(e.action, e.outcome, e.actor) for e in recorded] == [("api.denied", "denied", ACTOR)]
    assert recorded[0].subject is None


def test_a_console_post_without_the_role_is_refused_before_its_form_is_read(
    province: ServedProvince,
) -> None:
    before = _size(province)
    with console(province, CLERK) as server:
        reply = _post(server, "/console/operator/clients", {"csrf_token": CSRF, "name": "x"})
    assert reply.status == 403
    assert [e.action for e in _new_events(province, before)] == ["api.denied"]
    assert province.context.clients.find_by_token("x") is None


def test_without_staff_sign_in_the_consoles_are_unavailable(province: ServedProvince) -> None:
    server = ApiServer(create_app(province.context))
    server.start()
    try:
        for path in ("/console/audit", "/console/operator"):
            assert server.request("GET", path, headers=HTML).status == 503
    finally:
        server.stop()


def test_the_search_finds_a_verification_by_purpose_and_is_itself_an_audit_read(
    province: ServedProvince,
) -> None:
    holder, claims = _verified_licence(province)
    verify_index = next(
        i for i, e in enumerate(events(province)) if e.action == "credential.verify"
    )
    before = _size(province)
    with console(province, AUDITOR) as server:
        reply = _post(
            server,
            "/console/audit/search",
            {
                "csrf_token": CSRF,
                "lang": "zh",
                "event_purpose": "cross-province.enrolment",
                "action": "credential.verify",
                "since": "2000-01-01T00:00",
                **DECLARED,
            },
        )
    assert reply.status == 200, reply.text
    assert f'data-index="{verify_index}"' in reply.text
    assert "跨省通办事项受理登记" in reply.text  # the purpose in words
    link = f"/console/audit/events/{verify_index}?purpose=audit.review&amp;legal_basis="
    assert link in reply.text
    # Pseudonyms only: not the holder, not a claim, not the staff member's provider id.
    page = reply.text
    assert holder not in page
    assert SUBJECT not in page
    assert not [v for v in claims.values() if len(v) > 3 and v in page]
    recorded = _new_events(province, before)
    _as_table(("POST", "/console/audit/search"), recorded)
    read = recorded[0]
    assert (read.resource, read.purpose, read.actor) == (
        "record:audit_search",
        "audit.review",
        ACTOR,
    )


def test_the_search_pages_by_the_cursor(province: ServedProvince) -> None:
    for i in range(3):
        province.request("GET", f"/audit/events/{i}", Role.AUDITOR, headers=PERSONAL)
    fields = {"csrf_token": CSRF, "action": "audit.read", **DECLARED}
    with console(province, AUDITOR) as server:
        first = _post(server, "/console/audit/search", fields)
        assert first.status == 200, first.text
        indexes = [int(i) for i in re.findall(r'<tr data-index="(\d+)"', first.text)]
        assert indexes == sorted(indexes, reverse=True)
        assert len(indexes) >= 3
    # A page of two, then the next from its cursor: no repeat, newest first.
    from api.portal.console import audit_pages

    size = audit_pages.PAGE_SIZE
    audit_pages.PAGE_SIZE = 2
    try:
        with console(province, AUDITOR) as server:
            page1 = _post(server, "/console/audit/search", fields)
            cursor = re.search(r'name="cursor" value="(\d+)"', page1.text)
            assert cursor is not None
            page2 = _post(server, "/console/audit/search", {**fields, "cursor": cursor.group(1)})
    finally:
        audit_pages.PAGE_SIZE = size
    one = [int(i) for i in re.findall(r'<tr data-index="(\d+)"', page1.text)]
    two = [int(i) for i in re.findall(r'<tr data-index="(\d+)"', page2.text)]
    assert len(one) == 2
    assert two
    assert max(two) < min(one)


def test_a_search_without_the_csrf_token_or_a_purpose_is_refused_and_reads_nothing(
    province: ServedProvince,
) -> None:
    before = _size(province)
    with console(province, AUDITOR) as server:
        no_token = _post(server, "/console/audit/search", {"action": "audit.read", **DECLARED})
        no_purpose = _post(server, "/console/audit/search", {"csrf_token": CSRF})
        bad_filter = _post(
            server, "/console/audit/search", {"csrf_token": CSRF, "actor": "NO SPACES", **DECLARED}
        )
    assert no_token.status == 403
    assert no_purpose.status == 422
    assert 'id="console-error"' in no_purpose.text
    assert bad_filter.status == 422
    assert "访问方（客户端标识）" in bad_filter.text
    assert _new_events(province, before) == []


def test_the_event_page_lays_out_the_receipt_and_proof_for_the_browser(
    province: ServedProvince,
) -> None:
    _verified_licence(province)
    _checkpoint(province)
    index = next(i for i, e in enumerate(events(province)) if e.action == "credential.verify")
    before = _size(province)
    query = urlencode(DECLARED)
    with console(province, AUDITOR) as server:
        asks = server.request("GET", f"/console/audit/events/{index}", headers=HTML)
        reply = server.request("GET", f"/console/audit/events/{index}?{query}", headers=HTML)
        missing = server.request("GET", f"/console/audit/events/999999?{query}", headers=HTML)
    assert asks.status == 200
    assert 'id="event-declare"' in asks.text
    assert reply.status == 200, reply.text
    assert 'data-matches="true"' in reply.text
    # Without the auditor's node the page says the browser check did not run, and the
    # checks shown are marked as the server's; the CSP reaches no other origin.
    assert CONSOLE_TEXT["zh"]["server_check"] in reply.text
    assert 'id="node-missing"' in reply.text
    assert 'id="event-browser" class="browser-verdict" data-state="not-run"' in reply.text
    assert _connect_src(reply) == "'self'"
    section = re.search(r'<section id="browser-proof"(.*?)>', reply.text, re.S)
    assert section is not None
    attributes = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', section.group(1)))
    log = province.parts.audit_log
    stored = log.event(index)
    assert stored is not None
    assert attributes["data-index"] == str(index)
    assert attributes["data-leaf-hash"] == stored.receipt.leaf_hash.hex()
    size = int(attributes["data-tree-size"])
    assert size > index
    assert attributes["data-root"] == log.root(size)[1].hex()
    assert attributes["data-proof"].split(",") == [
        n.hex() for n in log.inclusion_proof(index, size)
    ]
    receipt = json.loads(html.unescape(attributes["data-receipt"]))
    assert json.loads(html.unescape(attributes["data-event"])) == stored.event.to_json()
    assert attributes["data-log-id"] == str(province.issuer_id)
    latest = province.parts.checkpoints.latest()
    assert latest is not None
    assert html.unescape(attributes["data-note"]) == latest.note
    assert receipt["leafHash"] == stored.receipt.leaf_hash.hex()
    assert attributes["data-block"].isdigit()
    assert missing.status == 404
    recorded = _new_events(province, before)
    # Asking for the purpose reads nothing; each read is one audit.read (found, not found).
    assert [(e.action, e.resource, e.outcome) for e in recorded] == [
        ("audit.read", "record:audit_event", "success"),
        ("audit.read", "record:audit_event", "not_found"),
    ]


def _alter(province: ServedProvince, index: int) -> None:
    """Change an event's stored body as someone with write access to the store could."""
    stored = province.parts.audit_log.event(index)
    assert stored is not None
    body = stored.event.canonical_bytes().replace(b'"success"', b'"denied"')
    with province.context.db.write() as tx:
        tx.execute("UPDATE audit_events SET body = ? WHERE seq = ?", (body, index))


def _export(server: ApiServer) -> bytes:
    reply = _post(server, "/console/audit/export", {"csrf_token": CSRF, **DECLARED})
    assert reply.status == 200, reply.text
    assert (reply.header("Content-Disposition") or "").startswith("attachment")
    return reply.body


def _check(server: ApiServer, export: bytes) -> Reply:
    body, content_type = form_body(
        {"csrf_token": CSRF.encode(), "lang": b"en", "export": export},
        filenames={"export": "audit.jsonl"},
    )
    return server.request(
        "POST",
        "/console/audit/export/verify",
        body=body,
        headers={"Content-Type": content_type, **HTML},
    )


def test_an_export_checks_and_an_event_altered_in_the_store_is_flagged(
    province: ServedProvince,
) -> None:
    _verified_licence(province)
    _checkpoint(province)
    victim = next(i for i, e in enumerate(events(province)) if e.action == "credential.verify")
    with console(province, AUDITOR) as server:
        before = _size(province)
        clean_export = _export(server)
        _as_table(("POST", "/console/audit/export"), _new_events(province, before))
        good = _check(server, clean_export)
        assert good.status == 200, good.text
        assert 'data-valid="true"' in good.text
        assert "The export matches its receipts" in good.text
        _alter(province, victim)
        before = _size(province)
        bad = _check(server, _export(server))
        page = server.request(
            "GET", f"/console/audit/events/{victim}?{urlencode(DECLARED)}", headers=HTML
        )
    assert 'data-valid="false"' in bad.text
    # The language switch of a form's answer leads to its console (a GET), not the POST.
    assert 'href="/console/audit?lang=zh"' in bad.text
    finding = re.search(r'<tr class="flagged" data-kind="([a-z]+)" data-index="(\d+)"', bad.text)
    assert finding is not None
    assert finding.groups() == ("altered", str(victim))
    assert "it was altered" in bad.text
    assert 'data-matches="false"' in page.text
    # Checking a file reads nothing of the log: only the export itself was an access.
    assert [e.resource for e in _new_events(province, before)] == [
        "record:audit_export",
        "record:audit_event",
    ]


def test_the_anomaly_views_are_svg_charts_with_their_numbers_as_a_table(
    province: ServedProvince,
) -> None:
    _verified_licence(province)
    before = _size(province)
    with console(province, AUDITOR) as server:
        reply = _post(server, "/console/audit/anomalies", {"csrf_token": CSRF, **DECLARED})
    assert reply.status == 200, reply.text
    svg = re.search(r'<svg[^>]*role="img"[^>]*>(.*?)</svg>', reply.text, re.S)
    assert svg is not None
    assert "<title" in svg.group(1)
    assert "<desc" in svg.group(1)
    assert "<script" not in reply.text.split("</head>")[1]
    # The day's verification is a bar and a row (and a new verifier that day).
    assert re.search(r'<rect class="bar"[^>]*height="[1-9]', svg.group(1))
    assert 'id="new-title"' in reply.text
    _as_table(("POST", "/console/audit/anomalies"), _new_events(province, before))


def test_the_checkpoint_timeline_marks_consistency_checked_on_the_server(
    province: ServedProvince,
) -> None:
    _verified_licence(province)
    _checkpoint(province)
    province.request("GET", "/audit/events/0", Role.AUDITOR, headers=PERSONAL)
    _checkpoint(province)
    with console(province, AUDITOR) as server:
        reply = server.request("GET", "/console/audit", headers=HTML)
    assert reply.status == 200
    table = reply.text.split('id="checkpoints"')[1].split("</table>")[0]
    rows = re.findall(r'<tr data-tree-size="(\d+)"', table)
    assert len(rows) >= 2
    section = re.search(r'<section[^>]*id="checkpoint-timeline"([^>]*)>', reply.text)
    assert section is not None
    data = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', section.group(1)))
    listed = json.loads(html.unescape(data["data-checkpoints"]))
    proofs = json.loads(html.unescape(data["data-consistency-proofs"]))
    assert sorted(str(c["treeSize"]) for c in listed) == sorted(rows)
    assert [(p["from"], p["to"]) for p in proofs] == [
        (a["treeSize"], b["treeSize"]) for a, b in pairwise(listed)
    ]
    assert "一致（服务器核对）" in table
    assert "第一个检查点" in table
    assert "不一致" not in table


def test_the_operator_creates_and_revokes_a_client_and_rotates_the_key(
    province: ServedProvince,
) -> None:
    before = _size(province)
    with console(province, OPERATOR) as server:
        page = server.request("GET", "/console/operator", headers=HTML)
        assert page.status == 200, page.text
        assert 'id="figures"' in page.text
        assert "chart-issued" in page.text
        created = _post(
            server,
            "/console/operator/clients",
            {
                "csrf_token": CSRF,
                "name": "Counter 9",
                "organisation": "330000",
                "client_id": "counter-9",
                "roles": ["verifier", "auditor"],
            },
        )
        assert created.status == 200, created.text
        token = re.search(r'<code class="token" id="new-token">(tb_[^<]+)</code>', created.text)
        assert token is not None
        found = province.context.clients.find_by_token(token.group(1))
        assert found is not None
        assert found.client_id == "counter-9"
        again = server.request("GET", "/console/operator", headers=HTML)
        assert token.group(1) not in again.text  # shown once
        revoked = _post(server, "/console/operator/clients/counter-9/revoke", {"csrf_token": CSRF})
        assert revoked.status == 200
        states = {c.client_id: c.active for c in province.context.clients.list()}
        assert states["counter-9"] is False
        rotated = _post(server, "/console/operator/keys", {"csrf_token": CSRF, "key_id": "key-9"})
        assert rotated.status == 200, rotated.text
        assert "key-9" in rotated.text
    recorded = _new_events(province, before)
    assert [e.action for e in recorded] == [
        "api.client_create",
        "api.client_revoke",
        "issuer.key.rotate",
    ]
    assert {e.actor for e in recorded} == {ACTOR}
    _as_table(("POST", "/console/operator/clients"), recorded[:1])
    _as_table(("POST", "/console/operator/clients/{client_id}/revoke"), recorded[1:2])
    _as_table(("POST", "/console/operator/keys"), recorded[2:])


def test_an_operator_form_without_its_csrf_token_changes_nothing(
    province: ServedProvince,
) -> None:
    before = _size(province)
    with console(province, OPERATOR) as server:
        created = _post(
            server,
            "/console/operator/clients",
            {"name": "x", "organisation": "330000", "roles": ["verifier"], "client_id": "nope"},
        )
        rotated = _post(server, "/console/operator/keys", {"csrf_token": "wrong"})
    assert created.status == 403
    assert rotated.status == 403
    assert all(c.client_id != "nope" for c in province.context.clients.list())
    assert _new_events(province, before) == []


def test_both_languages_hold_every_word() -> None:
    zh, en = CONSOLE_TEXT["zh"], CONSOLE_TEXT["en"]
    assert zh.keys() == en.keys()
    assert all(v.strip() for v in (*zh.values(), *en.values()))
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert all(cjk.search(v) for v in zh.values())
    assert {"nav_console_audit", "nav_console_operator"} <= PAGE_TEXT["en"].keys()


CJK = re.compile(r"[\u4e00-\u9fff]+")
# Chinese the English page keeps on purpose: the footer's name, the language switch's
# target, the term 用证事由 beside its translation, the province's own name in the header.
ALLOWED_CJK = {"通办", "中文", "用证事由"}


@pytest.mark.parametrize(
    ("session", "path"), [(AUDITOR, "/console/audit"), (OPERATOR, "/console/operator")]
)
def test_the_english_page_has_no_chinese_words_and_the_chinese_page_no_english_ones(
    province: ServedProvince, session: StaffSession, path: str
) -> None:
    with console(province, session) as server:
        en = server.request("GET", f"{path}?lang=en", headers=HTML)
        zh = server.request("GET", f"{path}?lang=zh", headers=HTML)
    assert '<html lang="en">' in en.text
    assert '<html lang="zh-CN">' in zh.text
    leftover = set(CJK.findall(visible_text(en.text.split("<main")[1]))) - ALLOWED_CJK
    assert leftover == set()
    for page in (en.text, zh.text):
        assert "built-in method" not in page  # a word looked up as a Mapping method
        assert " object at 0x" not in page
    english_words = {v for v in CONSOLE_TEXT["en"].values() if len(v) > 4}
    zh_text = visible_text(zh.text)
    assert [v for v in english_words if v in zh_text] == []


def test_the_operator_approves_a_proposal_awaiting_this_services_governor(
    province: ServedProvince, world: World
) -> None:
    province.context.governor_account = world.accounts.governors[0].address
    proposal = world.registry.propose_suspend_issuer(world.governors[1], GD).proposal_id
    before = _size(province)
    with console(province, OPERATOR) as server:
        page = server.request("GET", "/console/operator", headers=HTML)
        action = f'action="/console/operator/proposals/{proposal}/approve"'
        assert action in page.text
        approved = _post(
            server, f"/console/operator/proposals/{proposal}/approve", {"csrf_token": CSRF}
        )
    assert approved.status == 200, approved.text
    assert 'id="console-notice"' in approved.text
    recorded = _new_events(province, before)
    _as_table(("POST", "/console/operator/proposals/{proposal_id}/approve"), recorded)
    assert recorded[0].outcome == "success"


NODE = {
    "csrf_token": CSRF,
    "rpc_url": "http://127.0.0.1:8545/rpc",
    "chain_id": "31337",
    "anchor_address": "0x" + "Ab" * 20,
    "confirmations": "2",
}


def _connect_src(reply: Reply) -> str:
    policy = reply.header("Content-Security-Policy") or ""
    found = re.search(r"connect-src ([^;]*)", policy)
    assert found is not None, policy
    return found.group(1)


def test_the_auditors_node_is_kept_in_their_cookie_and_only_audit_pages_may_reach_it(
    province: ServedProvince,
) -> None:
    before = _size(province)
    with console(province, AUDITOR) as server:
        assert _connect_src(server.request("GET", "/console/audit", headers=HTML)) == "'self'"
        saved = _post(server, "/console/audit/node", NODE)
        cookie = saved.header("Set-Cookie") or ""
        kept = cookie.split(";")[0]
        with_node = {**HTML, "Cookie": kept}
        audit = server.request("GET", "/console/audit", headers=with_node)
    with console(province, OPERATOR) as server:
        operator = server.request("GET", "/console/operator", headers=with_node)
    assert saved.status == 200, saved.text
    assert 'id="console-notice"' in saved.text
    assert kept.startswith("console_node=")
    flags = cookie.lower()
    assert "httponly" in flags
    assert "samesite=strict" in flags
    assert "path=/console" in flags
    assert _connect_src(saved) == "'self' http://127.0.0.1:8545"
    assert _connect_src(audit) == "'self' http://127.0.0.1:8545"
    assert 'data-rpc-url="http://127.0.0.1:8545/rpc"' in audit.text
    assert 'data-anchor-address="0x' + "ab" * 20 + '"' in audit.text
    assert 'value="2"' in audit.text  # the form shows the setting back
    assert _connect_src(operator) == "'self'"
    assert _size(province) == before  # the setting names nobody: nothing recorded


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rpc_url", "javascript:alert(1)"),
        ("rpc_url", "ftp://127.0.0.1/"),
        ("rpc_url", "http://127.0.0.1:8545; script-src *"),
        ("rpc_url", "http://node.example 'unsafe-inline'"),
        ("rpc_url", "http://user:secret@node.example/"),
        ("rpc_url", "http://node_example/"),
        ("rpc_url", "http://127.0.0.1:0/"),
        ("rpc_url", ""),
        ("chain_id", "0"),
        ("chain_id", "31337x"),
        ("anchor_address", "0x12"),
        ("confirmations", "0"),
    ],
)
def test_a_bad_node_setting_is_refused_by_name_and_never_reaches_a_header(
    province: ServedProvince, field: str, value: str
) -> None:
    with console(province, AUDITOR) as server:
        refused = _post(server, "/console/audit/node", {**NODE, field: value})
    assert refused.status == 422
    assert refused.header("Set-Cookie") is None
    assert _connect_src(refused) == "'self'"
    alert = refused.text.split('id="console-error"')[1].split("</div>")[0]
    assert CONSOLE_TEXT["zh"][field] in alert


def test_a_node_cookie_that_breaks_the_rules_is_ignored(province: ServedProvince) -> None:
    forged = json.dumps(
        {
            "rpcUrl": "http://x.example; script-src *",
            "chainId": 1,
            "anchorAddress": "0x" + "00" * 20,
            "confirmations": 1,
        }
    ).encode()
    value = base64.urlsafe_b64encode(forged).decode().rstrip("=")
    with console(province, AUDITOR) as server:
        reply = server.request(
            "GET", "/console/audit", headers={**HTML, "Cookie": f"console_node={value}"}
        )
        garbage = server.request(
            "GET", "/console/audit", headers={**HTML, "Cookie": "console_node=%%%"}
        )
    assert reply.status == 200
    assert garbage.status == 200
    assert _connect_src(reply) == "'self'"
    assert _connect_src(garbage) == "'self'"
    assert "data-rpc-url" not in reply.text


def test_the_node_form_without_its_csrf_token_is_refused(province: ServedProvince) -> None:
    with console(province, AUDITOR) as server:
        refused = _post(server, "/console/audit/node", {**NODE, "csrf_token": "wrong"})
    assert refused.status == 403
    assert refused.header("Set-Cookie") is None
