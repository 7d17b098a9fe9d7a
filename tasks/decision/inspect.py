"""How the decision task's gate and scores read in the summary, `make inspect` and the report:
mean returns by acting, and the gate's paired verdicts with their intervals, not metrics of examples."""
from __future__ import annotations

# Model roles in the summary -> the RolloutEvaluator's keys (tasks/decision/rollout_evaluator.py).
ROLES = {"candidate": "model", "challenger": "behaviour_cloning", "filtered": "filtered_behaviour_cloning",
         "baseline": "deployed", "data": "data"}  # fmt: skip
SCORED = ("model", "behaviour_cloning", "filtered_behaviour_cloning", "deployed")  # the policies that acted


def verdict(found: dict) -> dict:
    """Metrics, failures and why, from the RolloutEvaluator's scores: mean returns when acting,
    and every verdict of the gate with its interval, in words."""
    metrics = {role: {"mean_return": found[key]["mean_return"]} for role, key in ROLES.items() if key in found}
    reasons = found.get("reasons", [])
    gain = found.get("transformer_gain", {}).get("words")
    why = "; ".join([*(found.get("verdicts") or reasons), *([gain] if gain else [])]) or "no verdicts recorded"
    failures = [{"metric": "mean_return", "message": r} for r in reasons]
    return {"metrics": metrics, "failures": failures, "why": why, "failure_lines": [f"FAILED mean_return: {r}" for r in reasons]}


def score_lines(name: str, scores: dict) -> list[str]:
    """Mean returns by acting (the decision task's RolloutEvaluator), then the gate's verdicts."""
    out = [f"Scores ({name}; mean return over {scores['model'].get('episodes', '?')} seeded episodes):"]
    for key in SCORED:
        if key in scores:
            target, variant = scores[key].get("target_return"), scores[key].get("variant")
            note = f" (asked for {target:g})" if target is not None else f" ({variant})" if variant else ""
            out.append(f"  {key:26s} {scores[key]['mean_return']:9.1f} ± {scores[key]['std_return']:.1f}{note}")
    out.append(f"  {'data':26s} {scores['data']['mean_return']:9.1f} (the logged episodes; best {scores['data']['max_return']:g})")
    if scores.get("verdicts"):
        out.append("Gate (paired by seed; gain = the candidate's return - the other's):")
        out += [f"  {line}" for line in scores["verdicts"]]
    if scores.get("transformer_gain"):
        gain = scores["transformer_gain"]
        out.append(f"  {gain['words']} (kept epoch {gain.get('kept_epoch')})")
    test = scores.get("test", {})
    if test:
        out.append("  test episodes (other seeds; they choose nothing): "
                   + ", ".join(f"{k} {v['mean_return']:.1f} ± {v['std_return']:.1f}" for k, v in test.items() if isinstance(v, dict)))  # fmt: skip
    return out
