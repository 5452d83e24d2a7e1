"""The table of `bench continual`: per-run metrics averaged per strategy, and results.md."""

from __future__ import annotations

import numpy as np


def aggregate(runs: list[dict]) -> dict:
    """Metrics of each run, then mean (and std) over the runs of a strategy."""
    from agent.policy.metrics import summarize

    per: dict[str, list[dict]] = {}
    for r in runs:
        m = summarize(r["success"], r["baseline"]["success"])
        pos = summarize(r["pos_cm"], r["baseline"]["pos_cm"], higher_is_better=False)
        rot = summarize(r["rot_deg"], r["baseline"]["rot_deg"], higher_is_better=False)
        row = {
            **m,
            "seconds": r["seconds"],
            "pos": pos,
            "rot": rot,
            "trainable_params": r["trainable_params"],
            "buffer_size": r["buffer_size"],
            "max_round_seconds": max(r["train_seconds"] or [0.0]),
            "sim_acc": r["sim"].get("acc"),
            "proxy_agreement": r["sim"].get("proxy_agreement"),
        }
        per.setdefault(r["strategy"], []).append(row)
    out = {}
    for name, rows in per.items():
        agg = {}
        for k in (
            "acc",
            "bwt",
            "fwt",
            "forgetting",
            "auc",
            "seconds",
            "max_round_seconds",
            "sim_acc",
            "proxy_agreement",
        ):
            vals = [x[k] for x in rows if x[k] is not None]
            agg[k] = float(np.mean(vals)) if vals else None
            if k in ("acc", "bwt") and vals:
                agg[f"{k}_std"] = float(np.std(vals))
        for k in ("pos", "rot"):
            agg[f"{k}_" + ("cm" if k == "pos" else "deg")] = {
                m: float(np.mean([x[k][m] for x in rows]))
                for m in ("acc", "bwt", "fwt", "forgetting", "auc")
            }
        agg["trainable_params"] = int(max(x["trainable_params"] for x in rows))
        agg["buffer_size"] = int(max(x["buffer_size"] for x in rows))
        agg["runs"] = len(rows)
        out[name] = agg
    return out


def markdown(strategies: dict, settings: dict, feedback: dict | None) -> str:
    head = (
        "| strategy | ACC | BWT | FWT | forgetting | AUC | pos err ACC (cm) | yaw err ACC (deg) | sim ACC | "
        "trainable params | buffer | seconds |"
    )
    lines = [
        "# Continual learning of the pose policy",
        "",
        f"Stream: {' -> '.join(settings['families'])} (order A; order B reversed). Orders {settings['orders']}, "
        f"seeds {settings['seeds']}; {settings['n_train']} demonstrations per task, base {settings['base_steps']} "
        f"steps, {settings['steps']} steps per later experience. Success: pose-tolerance proxy on "
        f"{settings['n_test']} held-out scenes per task; sim ACC: the final policy executed in the simulator on "
        f"{settings['sim_episodes']} scenes per task.",
        "",
        head,
        "|" + "---|" * 12,
    ]
    f = lambda v, d=2: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
    for name, s in strategies.items():
        lines.append(
            f"| {name} | {f(s['acc'])} | {f(s['bwt'])} | {f(s['fwt'])} | {f(s['forgetting'])} | {f(s['auc'])} | "
            f"{f(s['pos_cm']['acc'])} | {f(s['rot_deg']['acc'], 1)} | {f(s['sim_acc'])} | {s['trainable_params']} | "
            f"{s['buffer_size']} | {f(s['seconds'], 0)} |"
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
            ),
        ]
    return "\n".join(lines) + "\n"
