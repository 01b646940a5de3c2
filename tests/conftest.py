"""Shared test configuration: Hypothesis profiles, lesson markers, seeded RNGs."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# No wall-clock deadlines anywhere (the machine is shared and noisy). The "ci"
# profile is derandomized, so a CI run explores the same examples every time.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=60,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=100,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", parent=settings.get_profile("dev"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    # One marker per lesson (STYLE habit 5): `pytest -m lesson_attention`.
    from llmmath.lessons import LESSONS

    for lesson in LESSONS:
        config.addinivalue_line("markers", f"lesson_{lesson.name}: tests for the {lesson.title!r} lesson")


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed for each test."""
    return np.random.default_rng(20261123)


@pytest.fixture(autouse=True)
def _mpmath_precision_is_restored():
    """A test that sets mpmath.mp.dps must not change the precision of later tests."""
    import mpmath

    dps = mpmath.mp.dps
    yield
    mpmath.mp.dps = dps
