"""The table of `bench continual`: per-run metrics, paired comparisons, and results.md.

Runs of different strategies on the same (order, seed) share the base and the data, so
strategies are compared by PAIRED differences: for each (order, seed) the strategy's
metric minus naive's (and minus joint's), their mean and a 95% t-interval over the
pairs. A strategy whose interval of ACC minus naive's covers 0 is not ranked above
naive (`verdict`); with one pair there is no interval and no ranking. The mean of each
metric comes with a 95% t-interval over the runs too (not a population std).

"joint" is the multi-task bound (`stream.train_joint`): only its final scores exist, so
it has an ACC and no BWT, FWT, forgetting or AUC. "valid ACC" is the final success on
the validation scenes: the one to tune and choose on; every other figure is on test.

The goal stream's table (`goals_markdown`) adds seen and unseen ACC (held-out
combinations and relations apart), each strategy's hyperparameters and their source, and
per round: seconds, megabytes of tensors held (model and strategy state) and parameters;
`noise_study` compares each strategy's ACC across shares of wrong correction labels,
paired per (order, seed) against its own run without wrong labels.
"""

from __future__ import annotations

import math

import numpy as np

METRICS = ("acc", "bwt", "fwt", "forgetting", "auc")
EXTRA = ("seen_acc", "unseen_acc", "mean_round_seconds", "state_mb", "peak_rss_mb")
PAIRED = ("acc", "bwt", "forgetting")
# What two runs of the same cells may report differently: wall times and process memory.
MEASURED = frozenset(
    {
        "seconds",
        "train_seconds",
        "max_round_seconds",
        "mean_round_seconds",
        "finetune_seconds",  # the correction run's rounds
        "max_finetune_seconds",
        "peak_rss_mb",
    }
)
REFERENCES = ("naive", "joint")
ABOVE, SAME, BELOW = "above naive", "not distinguishable from naive", "below naive"


def t_interval(values) -> list[float] | None:
    """The 95% t-interval of the mean of `values` (None with fewer than two)."""
    from scipy.stats import t

    v = np.asarray([x for x in values if x is not None], dtype=float)
    if len(v) < 2:
        return None
    half = float(t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    m = float(v.mean())
    return [m - half, m + half]


def _matrix_metrics(r: dict, key: str, higher: bool) -> dict:
    from agent.policy.metrics import summarize

    m = np.asarray(r[key], dtype=float)
    if m.shape[0] != m.shape[1]:  # the joint bound: its final row only
        return {"acc": float(m[-1].mean()), **dict.fromkeys(METRICS[1:])}
    return summarize(m, r["baseline"][key], higher_is_better=higher)


def run_metrics(r: dict) -> dict:
    """Metrics of one run: ACC, BWT, FWT, forgetting, AUC of success (and of position and
    yaw error under "pos" and "rot"), final validation success, sizes and times."""
    valid = r.get("valid_success") or []
    split = r.get("final_split") or {}
    rounds = r["train_seconds"] or [0.0]
    return {
        "seen_acc": _mean(split.get("seen") or []),
        "unseen_acc": _mean(split.get("unseen") or []),
        "mean_round_seconds": float(np.mean(rounds)),
        "state_mb": max(r.get("round_state_mb") or [0.0]) or None,
        "final_params": (r.get("round_params") or [None])[-1],
        "peak_rss_mb": r.get("peak_rss_mb"),
        **_matrix_metrics(r, "success", True),
        "pos": _matrix_metrics(r, "pos_cm", False),
        "rot": _matrix_metrics(r, "rot_deg", False),
        "valid_acc": float(np.mean(valid[-1])) if valid else None,
        "seconds": r["seconds"],
        "trainable_params": r["trainable_params"],
        "total_params": r.get("total_params") or None,
        "routing_accuracy": r.get("routing_accuracy"),
        "buffer_size": r["buffer_size"],
        "max_round_seconds": max(r["train_seconds"] or [0.0]),
        "sim_acc": r["sim"].get("acc"),
        "proxy_agreement": r["sim"].get("proxy_agreement"),
    }


def _mean(values) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def paired(mine: dict, ref: dict, key: str) -> dict:
    """The difference of metric `key` to a reference over the (order, seed) pairs both ran:
    {"n", "mean", "ci": 95% t-interval or None}."""
    diffs = [
        mine[k][key] - ref[k][key]
        for k in sorted(mine)
        if k in ref and mine[k][key] is not None and ref[k][key] is not None
    ]
    return {
        "n": len(diffs),
        "mean": float(np.mean(diffs)) if diffs else None,
        "ci": t_interval(diffs),
    }


def verdict(vs_naive: dict | None) -> str:
    """Where a strategy stands against naive by its paired ACC interval: above only if the
    whole interval is above 0 (below only if wholly below); otherwise not distinguishable."""
    ci = (vs_naive or {}).get("ci")
    if ci is None:
        return SAME
    return ABOVE if ci[0] > 0 else BELOW if ci[1] < 0 else SAME


def aggregate(runs: list[dict]) -> dict:
    """Per strategy: the mean of each metric over its runs with a 95% t-interval for ACC
    and BWT, paired differences to naive and joint, and the verdict against naive."""
    per: dict[str, dict[tuple, dict]] = {}
    for r in runs:
        per.setdefault(r["strategy"], {})[(r.get("order"), r.get("seed"))] = run_metrics(r)
    out = {}
    for name, by_pair in per.items():
        rows = list(by_pair.values())
        agg: dict = {}
        for k in (
            *METRICS,
            "valid_acc",
            "seconds",
            "max_round_seconds",
            "sim_acc",
            "proxy_agreement",
            *EXTRA,
        ):
            vals = [x[k] for x in rows if x[k] is not None]
            agg[k] = float(np.mean(vals)) if vals else None
        for k in ("acc", "bwt", "fwt", "forgetting", "seen_acc", "unseen_acc"):
            agg[f"{k}_ci"] = t_interval([x[k] for x in rows])
        finals = [x["final_params"] for x in rows if x["final_params"]]
        agg["final_params"] = int(max(finals)) if finals else None
        for k, unit in (("pos", "cm"), ("rot", "deg")):
            agg[f"{k}_{unit}"] = {m: _mean([x[k][m] for x in rows]) for m in METRICS}
        agg["trainable_params"] = int(max(x["trainable_params"] for x in rows))
        totals = [x["total_params"] for x in rows if x["total_params"]]
        agg["total_params"] = int(max(totals)) if totals else None
        routes = [x["routing_accuracy"] for x in rows if x["routing_accuracy"] is not None]
        agg["routing_accuracy"] = float(np.mean(routes)) if routes else None
        agg["buffer_size"] = int(max(x["buffer_size"] for x in rows))
        agg["runs"] = len(rows)
        for ref in REFERENCES:
            if ref in per and ref != name:
                agg[f"vs_{ref}"] = {k: paired(by_pair, per[ref], k) for k in PAIRED}
        if name != "naive" and "naive" in per:
            agg["verdict"] = verdict(agg["vs_naive"]["acc"])
        out[name] = agg
    return out


def ranking(strategies: dict) -> list[str]:
    """Strategy names best first: those above naive by their paired interval (by mean
    ACC difference), then naive, then those not distinguishable from it (by ACC: listed
    after naive, never above it), then those below; without naive, by ACC."""
    tier = {ABOVE: 0, SAME: 1, BELOW: 2}

    def key(name: str):
        s = strategies[name]
        t = 1 if name == "naive" else tier[s.get("verdict", SAME)]
        d = (s.get("vs_naive") or {}).get("acc", {}).get("mean")
        return (t, name != "naive", -(d if t == 0 and d is not None else s["acc"] or 0.0))

    return sorted(strategies, key=key)


def _ci(c: dict | None, d: int = 2) -> str:
    if not c or c.get("mean") is None:
        return "-"
    ci = c.get("ci")
    tail = f" [{ci[0]:+.{d}f}, {ci[1]:+.{d}f}]" if ci else " (1 pair)"
    return f"{c['mean']:+.{d}f}{tail}"


def markdown(strategies: dict, settings: dict, feedback: dict | None) -> str:
    f = lambda v, d=2: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
    head = (
        "| strategy | vs naive | ACC [95% CI] | ACC - naive [95% CI] | ACC - joint [95% CI] | BWT | "
        "FWT | forgetting | AUC | valid ACC | pos err ACC (cm) | yaw err ACC (deg) | sim ACC | "
        "trainable params | total params | routing | buffer | seconds |"
    )
    lines = [
        "# Continual learning of the pose policy",
        "",
        f"Stream: {' -> '.join(settings['families'])} (order A; order B reversed). Orders "
        f"{settings['orders']}, seeds {settings['seeds']}; {settings['n_train']} demonstrations "
        f"per task, base {settings['base_steps']} steps, {settings['steps']} steps per later "
        f"experience. Success: pose-tolerance proxy on {settings['n_test']} held-out test scenes "
        "per task (valid ACC: the validation scenes, for tuning); sim ACC: the final policy "
        f"executed in the simulator on {settings['sim_episodes']} scenes per task. Differences "
        "are paired per (order, seed) with 95% t-intervals; a strategy is ranked above naive "
        "only if its interval of ACC - naive lies above 0. joint: the multi-task bound (all "
        "experiences at once from the base, the stream's total steps; ACC only); cumulative: "
        "fine-tuning on all data so far. LoRA routes by instruction: task-aware.",
        "",
        head,
        "|" + "---|" * 18,
    ]
    for name in ranking(strategies):
        s = strategies[name]
        acc_ci = s.get("acc_ci")
        acc = f(s["acc"]) + (f" [{acc_ci[0]:.2f}, {acc_ci[1]:.2f}]" if acc_ci else "")
        vs = {r: (s.get(f"vs_{r}") or {}).get("acc") for r in REFERENCES}
        lines.append(
            f"| {name} | {s.get('verdict', '-') if name != 'naive' else '-'} | {acc} | "
            f"{_ci(vs['naive'])} | {_ci(vs['joint'])} | {f(s['bwt'])} | {f(s['fwt'])} | "
            f"{f(s['forgetting'])} | {f(s['auc'])} | {f(s['valid_acc'])} | "
            f"{f(s['pos_cm']['acc'])} | {f(s['rot_deg']['acc'], 1)} | {f(s['sim_acc'])} | "
            f"{s['trainable_params']} | {s['total_params'] or '-'} | "
            f"{f(s['routing_accuracy'])} | {s['buffer_size']} | {f(s['seconds'], 0)} |"
        )
    if feedback:
        lines += [
            "",
            f"Corrections ({feedback['family']}, {feedback['strategy']}, expert {feedback['expert']}): "
            f"success {feedback['start_success']:.2f} before, "
            + ", ".join(
                f"{r['success']:.2f} after {r['corrections']} corrections"
                + (f" and {r['successes_kept']} kept successes" if r.get("successes_kept") else "")
                + f" (round {r['round']})"
                for r in feedback["rounds"]
            )
            + " (test scenes; the loop stops on validation scenes).",
        ]
    return "\n".join(lines) + "\n"


def noise_study(runs: list[dict]) -> dict:
    """Per strategy and share of wrong labels: ACC and BWT (mean, 95% interval), and the
    ACC difference to the same strategy without wrong labels, paired per (order, seed)."""
    per: dict[str, dict[float, dict]] = {}
    for r in runs:
        by = per.setdefault(r["strategy"], {}).setdefault(float(r.get("noise", 0.0)), {})
        by[(r.get("order"), r.get("seed"))] = run_metrics(r)
    out: dict = {}
    for name, levels in per.items():
        clean = levels.get(min(levels), {})
        out[name] = {
            f"{nz:g}": {
                "runs": len(by),
                "acc": _mean([x["acc"] for x in by.values()]),
                "acc_ci": t_interval([x["acc"] for x in by.values()]),
                "bwt": _mean([x["bwt"] for x in by.values()]),
                "vs_clean": paired(by, clean, "acc") if nz != min(levels) else None,
            }
            for nz, by in sorted(levels.items())
        }
    return out


def _mci(s: dict, key: str, d: int = 2) -> str:
    v, ci = s.get(key), s.get(f"{key}_ci")
    if v is None:
        return "-"
    sg = "" if key == "acc" else "+"
    return f"{v:{sg}.{d}f}" + ("" if ci is None else f" [{ci[0]:{sg}.{d}f}, {ci[1]:{sg}.{d}f}]")


def _params(p: dict) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in p.items())


def goals_markdown(strategies: dict, settings: dict, study: dict | None) -> str:
    """The goal stream's results.md: the table at the first noise level, the noise study."""
    f = lambda v, d=2: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
    data = settings.get("data") or {}
    lines = [
        "# Continual learning on the open-world goal stream",
        "",
        f"Stream ({len(settings['families'])} experiences of goal templates): "
        f"{' -> '.join(settings['families'])}. Orders {settings['orders']}, seeds "
        f"{settings['seeds']}; {settings['n_train']} rows per experience (the first from "
        "demonstrations, the others correction rows), base "
        f"{settings['base_steps']} steps, {settings['steps']} steps per later experience; "
        f"{settings['n_test']} test scenes per experience, half of them held-out "
        "combinations or relations (unseen); test phrasings met verbatim in training: "
        f"{f(data.get('test_verbatim_in_training'))}. Wrong correction labels in this "
        f"table: {settings['noise'][0]:.0%}. Success: the grasp within tolerance and the "
        "goal holding where the policy puts the object (no simulator). Differences paired "
        "per (order, seed), 95% t-intervals. Known boundaries, language-conditioned; LoRA "
        "routes by instruction (task-aware), the others are task-agnostic; joint: "
        "multi-task bound (ACC only). Hyperparameters: "
        + ("tuned by `bench tune`" if settings.get("tuned") else "defaults")
        + ".",
        "",
        "| strategy | vs naive | ACC [95% CI] | ACC - naive [95% CI] | ACC - joint [95% CI] | "
        "BWT [95% CI] | FWT [95% CI] | forgetting [95% CI] | seen ACC | unseen ACC | "
        "valid ACC | s / round | MB held | params (final) | routing | params |",
        "|" + "---|" * 16,
    ]
    for name in ranking(strategies):
        s = strategies[name]
        vs = {r: (s.get(f"vs_{r}") or {}).get("acc") for r in REFERENCES}
        lines.append(
            f"| {name} | {s.get('verdict', '-') if name != 'naive' else '-'} | "
            f"{_mci(s, 'acc')} | {_ci(vs['naive'])} | {_ci(vs['joint'])} | {_mci(s, 'bwt')} | "
            f"{_mci(s, 'fwt')} | {_mci(s, 'forgetting')} | {f(s.get('seen_acc'))} | "
            f"{f(s.get('unseen_acc'))} | {f(s['valid_acc'])} | "
            f"{f(s.get('mean_round_seconds'), 1)} | {f(s.get('state_mb'), 1)} | "
            f"{s.get('final_params') or '-'} | {f(s['routing_accuracy'])} | "
            f"{_params(settings.get('params', {}).get(name) or {}) or 'defaults'} |"
        )
    tuning = settings.get("tuning") or {}
    below = [n for n in strategies if strategies[n].get("verdict") == BELOW]
    if tuning:
        lines += [
            "",
            f"Tuning: {tuning['trials']} trials per strategy ({tuning['sampler']}) on the dev "
            f"order ({' -> '.join(tuning['dev']['families'])}) with seeds "
            f"{tuning['dev']['seeds']}, scored by final validation success at sizes "
            f"{tuning['settings']}.",
        ]
    for n in below:
        space = (tuning.get("spaces") or {}).get(n)
        searched = (
            "; searched " + ", ".join(f"{k} {v[1]:g}..{v[2]:g}" for k, v in space.items())
            if space
            else " (not tuned)"
        )
        lines.append(f"- {n} ends BELOW naive{' after tuning' if space else ''}{searched}.")
    if study:
        levels = sorted({k for v in study.values() for k in v}, key=float)
        lines += [
            "",
            "Noise study: ACC with a share of wrong correction labels (mean [95% CI]), and "
            "its change from the same strategy without them (paired per order and seed).",
            "",
            "| strategy | "
            + " | ".join(f"ACC at {float(k):.0%}" for k in levels)
            + " | "
            + " | ".join(f"change at {float(k):.0%}" for k in levels[1:])
            + " |",
            "|" + "---|" * (1 + 2 * len(levels) - 1),
        ]
        for name, by in study.items():
            accs = [_mci(by[k], "acc") if k in by else "-" for k in levels]
            drops = [_ci((by.get(k) or {}).get("vs_clean")) for k in levels[1:]]
            lines.append(f"| {name} | " + " | ".join(accs + drops) + " |")
    return "\n".join(lines) + "\n"
