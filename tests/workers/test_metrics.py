"""The worker's Prometheus metrics: per-stage timing histograms."""

from __future__ import annotations

from openlfr.workers.metrics import WorkerMetrics


def test_stage_timings_are_histograms_labelled_by_stage_only() -> None:
    metrics = WorkerMetrics()
    metrics.observe_stage("detect_full", 0.004)
    metrics.observe_stage("detect_full", 0.03)
    metrics.observe_stage("detect_windows", 0.0007)
    text = metrics.render().decode()
    assert 'openlfr_worker_stage_seconds_count{stage="detect_full"} 2.0' in text
    assert 'openlfr_worker_stage_seconds_bucket{le="0.005",stage="detect_full"} 1.0' in text
    assert 'openlfr_worker_stage_seconds_bucket{le="0.001",stage="detect_windows"} 1.0' in text
