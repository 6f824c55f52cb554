"""Calibration on gold parallel data: the acceptance criteria of the curation issue, measured in full."""

from __future__ import annotations

import pytest

from conftest import SHARED
from xkde_data.curate.calibration import CORRUPTIONS, calibrate


@pytest.fixture(scope="module")
def calibration():
    if not SHARED.exists():
        pytest.skip(f"shared benchmark data not found: {SHARED}")
    return calibrate(SHARED)


def test_gold_translations_accepted_for_every_language(calibration):
    assert {row["lang"] for row in calibration} == {"zh", "de", "fr", "es"}
    for row in calibration:
        assert row["gold_accepted"] >= 0.98, (row["set"], row["gold_rejects"].group_by("reason").len().rows())


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_each_corruption_rejected(calibration, corruption):
    for row in calibration:
        assert row[corruption] is not None and row[f"{corruption}_n"] >= 100, row["set"]
        assert row[corruption] >= 0.98, (row["set"], corruption, row[f"{corruption}_missed"].head(3).rows())
