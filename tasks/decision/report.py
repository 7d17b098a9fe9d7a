"""The decision report: the return achieved against the return asked for."""
from __future__ import annotations

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
    ax.axhline(found["data"]["mean_return"], color="tab:red", linestyle="--", label="the data's mean")
    ax.set_xlabel("target return (asked)")
    ax.set_ylabel("achieved return")
    ax.legend(fontsize=8)
    rows = [[p["target_return"], round(p["mean_return"], 1), round(p["std_return"], 1), p["episodes"]] for p in curve]
    return (f"<p>{config.decision.env_id}: seeded episodes per target, asked for each return at the first step.</p>"
            + png(figure) + table(["target", "mean return", "std", "episodes"], rows))  # fmt: skip
