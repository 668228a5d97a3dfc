"""The largest numbers the app accepts are stored and read back exactly."""

from decimal import Decimal

import pytest

from hub.domain.numbers import checked_decimal
from hub.extensions import db
from hub.models.base import canonical_decimal


@pytest.mark.parametrize(
    "text",
    ["123456789012345678901234.1234567891", "-99999999999999999999999.9999999999", "0.0000000001"],
)
def test_34_significant_digits_survive_the_canonical_form_and_the_database(make, text):
    assert canonical_decimal(Decimal(text)) == Decimal(text)
    assert format(checked_decimal(text), "f") == text
    kpi = make.kpi(make.workspace(make.user()))
    make.value(kpi, "2026-11-30", text)
    db.session.expire_all()
    assert format(kpi.values[0].value, "f") == text
