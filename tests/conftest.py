"""Shared test configuration: hypothesis profiles sized for a 2-core CI machine, and the
``no_gc`` fixture of the tests that show a graph is freed without the cyclic collector.

"ci", loaded unless HYPOTHESIS_PROFILE names another, has the settings of hypothesis's own
CI profile (which this name replaces), with fewer examples: derandomized, without the
example database, and printing a reproduction blob on failure, so every run of the suite
draws the same examples and a run on a clean checkout passes or fails as the last one did.
"thorough" draws new random examples on each run, many more of them, to look for failures:
HYPOTHESIS_PROFILE=thorough pytest.
"""
import gc
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=40, derandomize=True, database=None, print_blob=True, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=500, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def no_gc():
    """The cyclic collector off for the test (after one collection): what is freed then was
    freed by reference counting alone."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
