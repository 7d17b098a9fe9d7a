"""The decision report: the return achieved against the return asked for, and the gate's verdicts."""
from __future__ import annotations

import html

from reporting.html import plt, png, table


def return_curve_section(report: dict, config) -> str:
    """Achieved against asked-for return: the Decision Transformer's signature curve."""
    found = report.get(report.get("scores_key") or "", {})
    if "curve" not in found:
        return "<p>No rollout scores in this run.</p>"
    curve = found["curve"]
    asked = [p["target_return"] for p in curve]
    mean = [p["mean_return"] for p in curve]
    spread = [p["std_return"] for p in curve]
    figure, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(asked, mean, yerr=spread, marker="o", capsize=3, label="Decision Transformer (mean ± std)")
    ax.plot(asked, asked, color="gray", linestyle=":", label="achieved = asked")
    ax.axhline(found["behaviour_cloning"]["mean_return"], color="tab:orange", linestyle="--", label="behaviour cloning")
    if "filtered_behaviour_cloning" in found:
        ax.axhline(found["filtered_behaviour_cloning"]["mean_return"], color="tab:green", linestyle="-.", label="filtered behaviour cloning")
    ax.axhline(found["data"]["mean_return"], color="tab:red", linestyle="--", label="the data's mean")
    ax.set_xlabel("target return (asked)")
    ax.set_ylabel("achieved return")
    ax.legend(fontsize=8)
    rows = [[p["target_return"], round(p["mean_return"], 1), round(p["std_return"], 1), p["episodes"]] for p in curve]
    return (f"<p>{config.decision.env_id}: seeded episodes per target, asked for each return at the first step.</p>"
            + png(figure) + table(["target", "mean return", "std", "episodes"], rows) + gate_table(found))  # fmt: skip


def gate_table(found: dict) -> str:
    """The gate's comparisons: each challenger's mean return, the paired gain with its interval, the verdict."""
    gate = found.get("gate")
    if not gate:
        return ""
    rows = [[name, round(v["challenger_mean_return"], 1), round(v["diff"], 1), f"{v['ci_low']:+.1f} to {v['ci_high']:+.1f}",
             v["verdict"], "passes" if v.get("passed") else "fails"] for name, v in gate.items()]  # fmt: skip
    gain = found.get("transformer_gain", {})
    words = f"<p>{html.escape(gain['words'])} (KeepBest kept epoch {gain.get('kept_epoch')}).</p>" if gain else ""
    return ("<p>The gate, paired by seed (gain = the candidate's return - the other's on the same seed):</p>"
            + table(["compared with", "its mean return", "gain", "95 % interval", "verdict", "rule"], rows) + words)  # fmt: skip
