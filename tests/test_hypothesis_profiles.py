"""The property tests draw the same examples on every run, unless asked for new ones."""
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def _examples_drawn() -> list[float]:
    drawn = []

    @settings(max_examples=15)
    @given(st.floats(-1e6, 1e6))
    def record(x):
        drawn.append(x)

    record()
    return drawn


@pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE", "ci") != "ci",
                    reason="another profile was asked for")
def test_two_runs_of_a_property_test_draw_the_same_examples():
    first, second = _examples_drawn(), _examples_drawn()
    assert len(first) == 15
    assert first == second
    assert settings().database is None  # no failure saved by an earlier run is replayed
