"""``tongban templates``: the catalogue as ``GET /templates`` gives it, and example requests."""

from __future__ import annotations

import json
import subprocess

from credentials.catalogue import describe_all, example_request
from credentials.templates import TEMPLATES
from tests.helpers.processes import TONGBAN, tongban_env


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, "templates", *args], capture_output=True, text=True, env=tongban_env(), timeout=60
    )


def test_json_lists_the_catalogue_one_template_a_line() -> None:
    result = _run("--json")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == describe_all()


def test_text_names_every_template_and_claim() -> None:
    result = _run()
    assert result.returncode == 0, result.stderr
    for template in TEMPLATES.values():
        assert template.name in result.stdout
        for claim in template.claims:
            assert claim in result.stdout


def test_example_prints_a_request_to_start_from() -> None:
    result = _run("--example", "business-licence", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == example_request(TEMPLATES["business-licence"])
    unknown = _run("--example", "driving-licence")
    assert unknown.returncode == 2
    assert "driving-licence" not in unknown.stderr
    assert unknown.stderr.startswith("error: no such template")


def test_text_shows_each_templates_national_metadata() -> None:
    result = _run()
    assert result.returncode == 0, result.stderr
    for template in TEMPLATES.values():
        national = template.national
        assert national is not None, template.name
        assert f"证照类型 {national.type_code}  {national.type_name}" in result.stdout
        assert f"信任等级 {national.trust_grade}" in result.stdout
    assert "持证主体代码类型 111 公民身份号码  (claim: citizenIdNumber)" in result.stdout
    assert (
        "持证主体代码类型 001 统一社会信用代码  (claim: unifiedSocialCreditCode)" in result.stdout
    )


def test_the_resident_certificate_example_is_a_request_of_that_template() -> None:
    result = _run("--example", "resident-certificate", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body == example_request(TEMPLATES["resident-certificate"])
    assert set(body["claims"]) == set(TEMPLATES["resident-certificate"].claims)
