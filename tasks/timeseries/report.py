"""The time-series report: forecasts against actual values, and the error by horizon step."""
from __future__ import annotations

import html

from reporting.html import plt, png
from reporting.run import artifact_uri, candidate_model

FORECAST_WINDOWS = 4


FORECASTER_STYLE = {  # the model and each challenger: colour and line style, in every plot
    "model": ("tab:orange", "-"),
    "persistence": ("tab:gray", ":"),
    "seasonal_naive": ("tab:green", "--"),
    "linear": ("tab:blue", "-."),
}


def forecast_section(report: dict, config) -> str:
    import numpy as np
    import tensorflow as tf

    from components import export
    from tasks.timeseries import challengers, features
    from tasks.timeseries import scores as forecast_scores

    model, which = candidate_model(report)
    series = config.series
    uri = artifact_uri(report, "ExampleGen", "examples")
    signature = model.signatures.get(export.EVALUATION_SIGNATURE) or model.signatures[export.SERVING_SIGNATURE]
    records, windows, truth = forecast_scores.read_split(uri, "test", series)
    picks = np.linspace(0, len(records) - 1, FORECAST_WINDOWS).astype(int)
    chosen = [records[i] for i in picks]
    forecasts = {}
    if export.EVALUATION_SIGNATURE in model.signatures:
        forecasts = forecast_scores.model_forecasts(signature, chosen, series.target_columns)
    else:  # a model exported before the evaluation signature: its own forecasts only
        outputs = signature(examples=tf.constant(chosen))
        forecasts["model"] = np.stack(
            [outputs[features.forecast_output_key(c)].numpy() for c in series.target_columns], axis=-1
        )
    forecasts.update(challengers.naive_forecasts(windows[picks], series.horizon, series.season))
    columns = series.target_columns
    figure, axes = plt.subplots(len(columns), len(picks), figsize=(4 * len(picks), 3 * len(columns)), squeeze=False)
    for col, column in enumerate(columns):
        for i, pick in enumerate(picks):
            ax = axes[col][i]
            history = windows[pick, :, col]
            future = range(1, series.horizon + 1)
            ax.plot(range(-len(history) + 1, 1), history, color="black", alpha=0.5, label="history")
            ax.plot(future, truth[pick, :, col], color="black", label="actual")
            for name, forecast in forecasts.items():
                color, style = FORECASTER_STYLE.get(name, ("tab:red", "-"))
                ax.plot(future, forecast[i, :, col], color=color, linestyle=style, label=name)
            ax.set_title(f"{column}: test window {pick + 1}")
            ax.set_xlabel("steps")
    axes[0][0].legend(fontsize=7)
    named = ", ".join(columns)
    return f"<p>{html.escape(which)} and the challengers on test windows of {html.escape(named)}.</p>" + png(figure)


def horizon_section(report: dict, config) -> str:
    """MAE of each horizon step, model and challengers, from the Scorer (test split)."""
    key = report.get("scores_key")
    by_step = (report.get(key) or {}).get("mae_by_step", {}) if key else {}
    if not by_step:
        return "<p>No per-step scores in this run (no Scorer output).</p>"
    parts = []
    figure, axes = plt.subplots(1, len(by_step), figsize=(6 * len(by_step), 3.5), squeeze=False)
    for ax, (split, curves) in zip(axes[0], by_step.items(), strict=True):
        for name, values in curves.items():
            color, style = FORECASTER_STYLE.get(name, ("tab:red", "-"))
            ax.plot(range(1, len(values) + 1), values, color=color, linestyle=style, marker=".", label=name)
        ax.set_xlabel("horizon step")
        ax.set_ylabel("MAE (data units)")
        ax.set_title(f"MAE by horizon step ({split})")
    axes[0][0].legend(fontsize=8)
    parts.append(
        "<p>A curve that falls at the last steps, or jumps between neighbours, points at the forecast head "
        "(for example a flatten head overfitting single steps) rather than at the data: the challengers' "
        "curves show how error should grow with the horizon.</p>"
    )
    parts.append(png(figure))
    return "".join(parts)
