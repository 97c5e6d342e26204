"""The day's report folder and the trend plot."""

from datetime import date

from include.monitoring.report import report_folder, trend_png


def test_a_days_reports_live_under_reports_drift_model_and_day():
    assert report_folder("credit_default", date(2026, 11, 21)) == "reports/drift/credit_default/ds=2026-11-21"


def test_the_trend_plot_is_a_png_even_before_any_performance_is_known():
    history = [
        (date(2026, 11, 20), "3", "drift.share", 0.1),
        (date(2026, 11, 21), "3", "drift.share", 0.6),
        (date(2026, 11, 21), "3", "prediction.mean", 0.04),
    ]
    png = trend_png(history, "credit_default", date(2026, 11, 21), 90, drift_share=0.3, performance_floor=0.7)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
