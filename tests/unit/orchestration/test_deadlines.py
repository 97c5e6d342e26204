"""A DAG's documentation states its deadline in the unit a person would say it in."""

from datetime import timedelta

import pytest

from orchestration.deadlines import deadline_doc, duration


@pytest.mark.parametrize(
    ("within", "said"),
    [
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=24), "24 hours"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(hours=1.5), "90 minutes"),  # a model YAML's deadline_hours: 1.5
        (timedelta(seconds=90), "90 seconds"),
    ],
)
def test_a_duration_is_said_in_the_largest_unit_that_divides_it(within, said):
    assert duration(within) == said


def test_the_deadline_paragraph_says_when_and_from_what():
    text = deadline_doc(timedelta(hours=6))
    assert text.startswith("\n\n**Deadline.**")  # its own paragraph after the DAG's doc
    assert "not finished 6 hours after it was queued" in text
