"""The checks of a table import read each column once: their work grows with the cells only.

``col(name)`` (``raw[name].tolist()``) inside the per-row loop made a county's
116,000-row workbook quadratic (issue 19). Counting column look-ups is exact where a
timing would be noisy on a shared machine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis.importing.report import ImportReport
from parcels.codes import make_credit_code
from parcels.importing.enterprise_checks import check_enterprises
from parcels.importing.land_right_import import check_land_rights


class CountingFrame(pd.DataFrame):
    """A frame that counts how often a column is looked up."""

    lookups = 0

    @property
    def _constructor(self):
        return CountingFrame

    def __getitem__(self, key):
        if isinstance(key, str):
            CountingFrame.lookups += 1
        return super().__getitem__(key)


def _enterprises(n):
    codes = [make_credit_code("9", "1", "320509", f"MA{i:06d}") for i in range(n)]
    return CountingFrame({"credit_code": codes, "name": [f"企业{i}" for i in range(n)],
                          "industry_code": ["3311"] * n, "town": ["盛泽镇"] * n,
                          "tax_wan": np.arange(n, dtype=float), "employees": ["12"] * n,
                          "size_class": ["是"] * n})


def _rights(n):
    codes = [make_credit_code("9", "1", "320509", f"MA{i:06d}") for i in range(n)]
    return CountingFrame({"parcel_code": [f"320509001001GB{i:05d}" for i in range(n)],
                          "credit_code": codes, "right_type": ["租赁"] * n,
                          "leased_land_m2": [100.0] * n, "start_date": ["2020-01-01"] * n})


@pytest.mark.parametrize("n", [50, 500])
def test_enterprise_checks_look_each_column_up_a_fixed_number_of_times(n):
    raw = _enterprises(n)
    CountingFrame.lookups = 0
    typed, keep = check_enterprises(raw, {}, np.arange(2, n + 2), ImportReport(), year=2024)
    assert keep.all() and len(typed) == n
    assert CountingFrame.lookups <= 3 * len(raw.columns) + 5, CountingFrame.lookups


@pytest.mark.parametrize("n", [50, 500])
def test_land_right_checks_look_each_column_up_a_fixed_number_of_times(n):
    raw = _rights(n)
    CountingFrame.lookups = 0
    typed, keep = check_land_rights(raw, {}, np.arange(2, n + 2), ImportReport())
    assert keep.all() and len(typed) == n
    assert CountingFrame.lookups <= 3 * len(raw.columns) + 5, CountingFrame.lookups


@pytest.mark.parametrize("n", [50, 500])
def test_policy_input_checks_look_each_column_up_a_fixed_number_of_times(n):
    from parcels.importing.account_import import check_accounts
    from parcels.importing.land_tax_import import check_land_tax

    codes = [make_credit_code("9", "1", "320509", f"MA{i:06d}") for i in range(n)]
    accounts = CountingFrame({"account_no": [f"A{i}" for i in range(n)], "credit_code": codes,
                              "annual": [str(1000 + i) for i in range(n)]})
    taxes = CountingFrame({"credit_code": codes, "taxable_area_m2": ["100"] * n,
                           "land_grade": ["3"] * n, "unit_tax": ["3"] * n})
    for check, raw in ((check_accounts, accounts), (check_land_tax, taxes)):
        CountingFrame.lookups = 0
        check(raw, {}, np.arange(2, n + 2), ImportReport())
        assert CountingFrame.lookups <= 3 * len(raw.columns) + 5, (check.__name__,
                                                                   CountingFrame.lookups)
