"""The demo's dates: training dates whose labels have matured, a seeded history that covers their
transaction windows, a scoring date whose transactions are complete, and the bureau days they read."""

from datetime import date, timedelta

from devstack.demo import DRIFT_DAYS, bureau_history, drift_start, history_start, scoring_date, training_dates
from include.features.definitions import CREDIT_DEFAULT

END = date(2026, 11, 22)


def test_training_dates_fall_in_three_consecutive_months_with_matured_labels():
    dates = training_dates(END)
    assert [(d.year, d.month) for d in dates] == [(2026, 6), (2026, 7), (2026, 8)]
    assert all(d + timedelta(days=CREDIT_DEFAULT.label_horizon_days) <= END for d in dates)
    # The day after: a new month matures only once its first day's label has.
    assert training_dates(date(2026, 11, 29))[-1] == date(2026, 8, 1)
    assert training_dates(date(2026, 11, 30))[-1] == date(2026, 9, 1)


def test_the_seeded_history_covers_the_oldest_training_dates_transaction_window():
    first = history_start(END)
    assert first.day == 1
    assert first <= training_dates(END)[0] - timedelta(days=CREDIT_DEFAULT.max_window)


def test_scoring_date_stops_where_the_lake_has_a_gap_between_archive_and_kafka():
    assert scoring_date(END, kafka_from=date(2026, 11, 16)) == date(2026, 11, 1)
    assert scoring_date(END, kafka_from=date(2026, 11, 1)) == date(2026, 11, 23)


def test_bureau_history_is_a_month_before_each_date_outside_the_window_in_ranges():
    window = (date(2026, 11, 9), date(2026, 11, 22))
    ranges = bureau_history([date(2026, 6, 30), date(2026, 7, 15), date(2026, 8, 1), date(2026, 11, 1)], window)
    assert ranges == [(date(2026, 5, 30), date(2026, 7, 31)), (date(2026, 10, 1), date(2026, 10, 31))]
    # Days the window lands are not landed twice.
    assert bureau_history([date(2026, 11, 23)], window) == [(date(2026, 10, 23), date(2026, 11, 8))]


def test_the_drift_window_covers_the_scoring_dates_30_day_features_and_no_training_features():
    for kafka_from in (date(2026, 11, 16), date(2026, 11, 1)):
        first = drift_start(END, kafka_from)
        assert first == scoring_date(END, kafka_from) - timedelta(days=DRIFT_DAYS)
        assert first > training_dates(END)[-1]  # features at D read events before D
