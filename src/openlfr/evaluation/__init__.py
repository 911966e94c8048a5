"""Accuracy and equitability evaluation: data, protocols, metrics, reports, thresholds, plans."""

from openlfr.evaluation.calibration import Calibration, CalibrationRule, calibrate_threshold
from openlfr.evaluation.datasets import (
    DatasetError,
    LabelledDataset,
    load_dataset,
    read_aliases,
    read_pairs,
    read_video_list,
)
from openlfr.evaluation.estimates import GroupRates, Metric, RateCurve, group_rates, rate_curve
from openlfr.evaluation.intervals import (
    IntervalMethod,
    clopper_pearson_interval,
    cluster_bootstrap_interval,
    wilson_interval,
)
from openlfr.evaluation.planner import DeploymentPlan, load_rates, plan_deployment
from openlfr.evaluation.rates import (
    det_curve,
    equal_error_rate,
    fmr,
    fnir,
    fnmr,
    fpir,
    rank_one_rate,
    tpir,
)
from openlfr.evaluation.report import write_report
from openlfr.evaluation.results import EvaluationReport
from openlfr.evaluation.runner import EvaluationOptions, Evaluator, Protocol
from openlfr.evaluation.scaling import ExceedanceTable, ScalingModel
from openlfr.evaluation.significance import DifferentialTest, differential_test

__all__ = [
    "Calibration",
    "CalibrationRule",
    "DatasetError",
    "DeploymentPlan",
    "DifferentialTest",
    "EvaluationOptions",
    "EvaluationReport",
    "Evaluator",
    "ExceedanceTable",
    "GroupRates",
    "IntervalMethod",
    "LabelledDataset",
    "Metric",
    "Protocol",
    "RateCurve",
    "ScalingModel",
    "calibrate_threshold",
    "clopper_pearson_interval",
    "cluster_bootstrap_interval",
    "det_curve",
    "differential_test",
    "equal_error_rate",
    "fmr",
    "fnir",
    "fnmr",
    "fpir",
    "group_rates",
    "load_dataset",
    "load_rates",
    "plan_deployment",
    "rank_one_rate",
    "rate_curve",
    "read_aliases",
    "read_pairs",
    "read_video_list",
    "tpir",
    "wilson_interval",
    "write_report",
]
