import datetime as dt

import pytest

from animals.models import format_age

D = dt.date


@pytest.mark.parametrize(
    ("born", "on", "expected"),
    [
        (D(2026, 1, 1), D(2026, 1, 6), "5 d"),
        (D(2026, 1, 1), D(2026, 2, 12), "6 w"),
        (D(2026, 1, 31), D(2026, 5, 30), "17 w"),
        (D(2026, 1, 31), D(2026, 5, 31), "4 m"),
        (D(2025, 3, 15), D(2026, 3, 14), "11 m"),
        (D(2025, 3, 15), D(2026, 3, 15), "1 y"),
        (D(2022, 9, 20), D(2025, 11, 27), "3 y 2 m"),
        (D(2024, 2, 29), D(2025, 2, 28), "11 m"),
        (D(2026, 1, 1), D(2025, 1, 1), ""),
    ],
)
def test_age_is_said_the_way_vets_say_it(born, on, expected):
    assert format_age(born, on) == expected
