"""Skew and drift of served requests: TFDV statistics of a window of raw inputs, validated
against the deployed model's training schema and statistics and against the previous window.

TFDV does the statistics (its in-memory generator: a window of a few hundred requests
needs no Beam pipeline) and the comparisons (`validate_statistics` with the schema's own
`skew_comparator` and `drift_comparator`). The thresholds live in the curated schema,
next to the validation thresholds, with the measurement that chose each. This module
only arranges the calls and says each result in one line naming the feature and the
statistic, e.g. "glucose: skew: Jensen-Shannon divergence 0.31 > 0.15 against training".

Used by `make monitor` (pipeline/monitor.py); it names no task.
"""
from __future__ import annotations

import dataclasses

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from data.features import without_request_meta

SERVING = "SERVING"  # the schema environment of served inputs (labels are not_in_environment)
SKEW, DRIFT, SCHEMA = "skew", "drift", "schema"
AGAINST = {SKEW: "against training", DRIFT: "against the previous window"}
STATISTIC_NAMES = {  # TFDV's comparator types, as the lines say them
    "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH": "Jensen-Shannon divergence",
    "COMPARATOR_L_INFTY_HIGH": "L-infinity distance",
    "COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH": "normalized absolute difference",
}
MEASUREMENT_NAMES = {  # DriftSkewInfo's measurement types
    "JENSEN_SHANNON_DIVERGENCE": "Jensen-Shannon divergence",
    "L_INFTY": "L-infinity distance",
    "NORMALIZED_ABSOLUTE_DIFFERENCE": "normalized absolute difference",
}


@dataclasses.dataclass
class Finding:
    """One comparison of one feature: its value, its threshold, and whether it is an anomaly."""

    feature: str
    kind: str  # skew | drift | schema
    statistic: str  # "Jensen-Shannon divergence", or the schema anomaly's short description
    value: float | None
    threshold: float | None
    anomaly: bool
    description: str = ""

    def line(self) -> str:
        if self.kind == SCHEMA:
            return f"{self.feature}: schema: {self.statistic}: {self.description}"
        sign = ">" if self.anomaly else "<="
        return f"{self.feature}: {self.kind}: {self.statistic} {self.value:.3g} {sign} {self.threshold:.3g} {AGAINST[self.kind]}"


@dataclasses.dataclass
class Verdict:
    findings: list[Finding]
    anomalies: anomalies_pb2.Anomalies  # every anomaly found, as TFDV says them (ExampleAnomalies)

    @property
    def alarms(self) -> list[Finding]:
        return [f for f in self.findings if f.anomaly]

    @property
    def lines(self) -> list[str]:
        return [f.line() for f in self.alarms]


def statistics(examples: list[tf.train.Example]) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics of the examples' raw features (the `__` meta features dropped), with
    TFDV's default options, as StatisticsGen computes them for the training split."""
    import tensorflow_data_validation as tfdv
    from tensorflow_data_validation.statistics import stats_impl
    from tfx_bsl.coders import example_coder

    if not examples:
        raise ValueError("no examples: TFDV statistics of an empty window mean nothing")
    serialized = [without_request_meta(e).SerializeToString() for e in examples]
    batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(serialized)
    return stats_impl.generate_statistics_in_memory(batch, tfdv.StatsOptions())


def thresholds(schema: schema_pb2.Schema, comparator: str) -> dict[str, tuple[str, float]]:
    """Feature -> (statistic, threshold) of its `skew_comparator` or `drift_comparator`."""
    found = {}
    for feature in schema.feature:
        if not feature.HasField(comparator):
            continue
        spec = getattr(feature, comparator)
        for field, name in (("jensen_shannon_divergence", "Jensen-Shannon divergence"), ("infinity_norm", "L-infinity distance"),
                            ("normalized_abs_difference", "normalized absolute difference")):  # fmt: skip
            if spec.HasField(field):
                found[feature.name] = (name, getattr(spec, field).threshold)
    return found


def measurements(anomalies: anomalies_pb2.Anomalies, kind: str) -> dict[tuple[str, str], float]:
    """(feature, statistic) -> the value TFDV measured, alarm or not (its drift_skew_info)."""
    field = "skew_measurements" if kind == SKEW else "drift_measurements"
    found = {}
    for info in anomalies.drift_skew_info:
        feature = ".".join(info.path.step)
        for measurement in getattr(info, field):
            name = MEASUREMENT_NAMES.get(anomalies_pb2.DriftSkewInfo.Measurement.Type.Name(measurement.type))
            if name:
                found[(feature, name)] = measurement.value
    return found


def comparisons(anomalies: anomalies_pb2.Anomalies, schema: schema_pb2.Schema, kind: str) -> list[Finding]:
    """Every comparator of `kind` the schema declares, with its measured value and verdict."""
    values = measurements(anomalies, kind)
    flagged = {
        (feature, STATISTIC_NAMES[anomalies_pb2.AnomalyInfo.Type.Name(reason.type)])
        for feature, info in anomalies.anomaly_info.items()
        for reason in info.reason
        if anomalies_pb2.AnomalyInfo.Type.Name(reason.type) in STATISTIC_NAMES
    }
    comparator = "skew_comparator" if kind == SKEW else "drift_comparator"
    return [
        Finding(feature, kind, statistic, values.get((feature, statistic)), threshold, (feature, statistic) in flagged)
        for feature, (statistic, threshold) in sorted(thresholds(schema, comparator).items())
        if (feature, statistic) in values or (feature, statistic) in flagged
    ]


def schema_findings(anomalies: anomalies_pb2.Anomalies) -> list[Finding]:
    """The window's own schema anomalies (a value out of its domain, a missing feature...)."""
    return [
        Finding(feature, SCHEMA, reason.short_description, None, None, True, reason.description)
        for feature, info in sorted(anomalies.anomaly_info.items())
        for reason in info.reason
        if anomalies_pb2.AnomalyInfo.Type.Name(reason.type) not in STATISTIC_NAMES
    ]


def validate(window: statistics_pb2.DatasetFeatureStatisticsList, schema: schema_pb2.Schema,
             training: statistics_pb2.DatasetFeatureStatisticsList,
             previous: statistics_pb2.DatasetFeatureStatisticsList | None = None) -> Verdict:  # fmt: skip
    """The window checked three ways, all by TFDV:
    - against the schema in the SERVING environment (labels are not expected);
    - skew: the training statistics with the window as `serving_statistics` (`skew_comparator`);
    - drift: the window with the previous window as `previous_statistics` (`drift_comparator`).
    The skew call validates the training statistics too; only its comparisons are kept, since the
    training split was validated by the run that trained the model."""
    import tensorflow_data_validation as tfdv

    own = tfdv.validate_statistics(window, schema, environment=SERVING, previous_statistics=previous)
    skew = tfdv.validate_statistics(training, schema, environment=SERVING, serving_statistics=window)
    findings = schema_findings(own) + comparisons(skew, schema, SKEW)
    if previous is not None:
        findings += comparisons(own, schema, DRIFT)
    recorded = anomalies_pb2.Anomalies()
    recorded.CopyFrom(own)
    for feature, info in skew.anomaly_info.items():  # only the comparisons of the skew call
        reasons = [r for r in info.reason if anomalies_pb2.AnomalyInfo.Type.Name(r.type) in STATISTIC_NAMES]
        if reasons:
            recorded.anomaly_info[feature].reason.extend(reasons)
            recorded.anomaly_info[feature].severity = anomalies_pb2.AnomalyInfo.ERROR
    recorded.drift_skew_info.extend(skew.drift_skew_info)
    return Verdict(findings, recorded)
