"""How the decision task's gate and scores read in the summary, `make inspect` and the report:
mean returns by acting, not metrics of examples."""
from __future__ import annotations


def verdict(found: dict) -> dict:
    """Metrics, failures and why, from the RolloutEvaluator's scores (mean returns when acting)."""
    roles = {"candidate": "model", "challenger": "behaviour_cloning", "baseline": "deployed", "data": "data"}
    metrics = {role: {"mean_return": found[key]["mean_return"]} for role, key in roles.items() if key in found}
    reasons = found.get("reasons", [])
    why = "; ".join(reasons) if reasons else "its mean return beats the data's and behaviour cloning's"
    failures = [{"metric": "mean_return", "message": r} for r in reasons]
    return {"metrics": metrics, "failures": failures, "why": why, "failure_lines": [f"FAILED mean_return: {r}" for r in reasons]}


def score_lines(name: str, scores: dict) -> list[str]:
    """Mean returns by acting (the decision task's RolloutEvaluator)."""
    out = [f"Scores ({name}; mean return over {scores['model'].get('episodes', '?')} seeded episodes):"]
    for key in ("model", "behaviour_cloning", "deployed"):
        if key in scores:
            target = scores[key].get("target_return")
            asked = f" (asked for {target:g})" if target is not None else ""
            out.append(f"  {key:18s} {scores[key]['mean_return']:9.1f} ± {scores[key]['std_return']:.1f}{asked}")
    out.append(f"  {'data':18s} {scores['data']['mean_return']:9.1f} (the logged episodes; best {scores['data']['max_return']:g})")
    test = scores.get("test", {})
    if test:
        out.append("  test episodes (other seeds; they choose nothing): "
                   + ", ".join(f"{k} {v['mean_return']:.1f} ± {v['std_return']:.1f}" for k, v in test.items() if isinstance(v, dict)))  # fmt: skip
    return out
