"""The issuing agency of the test provinces: one fictitious agency that may issue every template.

Test provinces register it and give their clients it, so a request that names
no agency issues for it (docs/agencies.md: the one agency the client may issue
the template for). Its code is fictitious (``TB`` in the organisation part),
with a right GB 32100 check character.
"""

from __future__ import annotations

from credentials.templates import TEMPLATES
from credentials.zhengzhao.agencies import add_agency, get_agency, set_templates
from ledger.store.database import Database

TEST_AGENCY = "11330000TB00000096"
"""The test agency's 统一社会信用代码."""

TEST_AGENCY_NAME = "测试省通办测试机构"
"""The test agency's name."""


def register_test_agency(db: Database, code: str = TEST_AGENCY) -> str:
    """Register the test agency in ``db`` for every template (idempotent); returns its code."""
    if get_agency(db, code) is None:
        add_agency(db, code, TEST_AGENCY_NAME, TEMPLATES)
    else:
        set_templates(db, code, TEMPLATES)
    return code
