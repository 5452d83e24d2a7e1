"""How `skillgrove policy ...` results look to people (tables and lines; --json prints the dicts)."""

from __future__ import annotations

import math
import time

import click


def num(v, digits: int = 2) -> str:
    """A number for a table cell ("-" when missing or NaN)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}f}"


def pose(p) -> str:
    """(x, y, z, yaw radians) as people read it."""
    if p is None:
        return "-"
    return f"x {p[0]:.3f}  y {p[1]:.3f}  z {p[2]:.3f} m  yaw {math.degrees(p[3]):.1f} deg"


def version(v) -> str:
    """A checkpoint version as "v0003" ("-" when there is none)."""
    return f"v{v:04d}" if isinstance(v, int) else "-"


def table(columns: list[str], rows: list[list]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(*columns)
    for col in t.columns[:-1]:  # only the last (free-text) column wraps
        col.no_wrap = True
    for r in rows:
        t.add_row(*[str(x) for x in r])
    Console().print(t)


def show_logdir(res: dict) -> None:
    """The run's TensorBoard directory (`tensorboard --logdir` on it or its parent)."""
    if res.get("logdir"):
        click.echo(f"curves: {res['logdir']}")


def show_train(res: dict) -> None:
    click.echo(f"checkpoint v{res['version']:04d}: {res['checkpoint']}")
    click.echo(
        f"{res['steps']} steps, {res['train_seconds']:.0f} s training, {res['seconds']:.0f} s in all"
    )
    rows = []
    for fam, r in res["eval"].items():
        sim = res["sim"].get(fam, {}).get("success")
        rows.append(
            [fam, r["n"], num(r["success"]), num(r["pos_cm"]), num(r["rot_deg"], 1), num(sim)]
        )
    table(
        ["family", "held-out", "proxy success", "pos err (cm)", "yaw err (deg)", "sim success"],
        rows,
    )
    show_logdir(res)


def show_eval(res: dict) -> None:
    mode, results = res["mode"], res["results"]
    click.echo(
        f"checkpoint v{res['version']:04d}, mode {mode}, {res['episodes']} held-out scenes per family"
    )
    if mode == "robot":
        rows = [
            [f, r["episodes"], num(r["oracle"]), num(r["policy"]), num(r["seconds"], 1)]
            for f, r in results.items()
        ]
        table(["family", "episodes", "oracle poses", "policy poses", "seconds"], rows)
        return
    rows = [
        [f, r["n"], num(r["success"]), num(r["pos_cm"]), num(r["rot_deg"], 1), num(r["seconds"], 1)]
        for f, r in results.items()
    ]
    table(["family", "episodes", "success", "pos err (cm)", "yaw err (deg)", "seconds"], rows)


def show_correction(res: dict) -> None:
    ver = res["checkpoint"]
    click.echo(
        f"scene: {res['family']} seed {res['seed']}: {res['instruction']!r}"
        + (f" (checkpoint v{ver:04d})" if isinstance(ver, int) else "")
    )
    click.echo(f"predicted pick:  {pose(res['predicted']['pick'])}")
    if res["predicted"]["place"] is not None:
        click.echo(f"predicted place: {pose(res['predicted']['place'])}")
    if res["stored"]:
        click.echo(
            f"corrected {res['action']}: {' ' * (5 - len(res['action']))}{pose(res['corrected'])}"
        )
        click.echo(f"stored correction #{res['id']} (diagnosis: {res['diagnosis']})")
    else:
        click.echo(f"nothing stored: {res['hint']}")
    click.echo(f"image: {res['image']}")


def show_feedback(res: dict) -> None:
    start = res.get("start_checkpoint")
    click.echo(
        f"{res['family']} with {res['strategy']}, expert {res['expert']}"
        + (f", from checkpoint v{start:04d}" if isinstance(start, int) else "")
        + f": success {num(res['start_success'])} before any correction"
    )
    olds = sorted({f for r in res["rounds"] for f in r.get("old_tasks") or {}})
    rows = [
        [
            r["round"],
            f"{r['failures']}/{r['attempts']}",
            r["corrections"],
            r["successes_kept"],
            num(r["success"]),
            *[num((r.get("old_tasks") or {}).get(f)) for f in olds],
            num(r["finetune_seconds"], 1),
            version(r.get("checkpoint")),
        ]
        for r in res["rounds"]
    ]
    old_cols = [f"{f} (old)" for f in olds]
    table(
        [
            "round",
            "failed",
            "corrections",
            "kept",
            "success",
            *old_cols,
            "fine-tune s",
            "checkpoint",
        ],
        rows,
    )
    if res.get("keep_successes"):
        click.echo(
            "kept: attempts that succeeded, trained on with the policy's own (verified) poses"
        )
    reached = res.get("reached_target_round")
    click.echo(
        f"target {res['target']:.2f}: "
        + (f"reached in round {reached}" if reached else "not reached")
    )
    click.echo(f"plot: {res['plot']}")
    show_logdir(res)


def show_finetune(res: dict) -> None:
    parent = res["parent"]
    click.echo(f"checkpoint v{res['version']:04d}: {res['checkpoint']}")
    start = f"from v{parent:04d}" if isinstance(parent, int) else "from an unnumbered one"
    click.echo(
        f"{start}, {len(res['corrections'])} corrections of {', '.join(res['corrected_families'])}, "
        f"{res['strategy']}, {res['steps']} steps in {res['train_seconds']:.1f} s, "
        f"loss {res['first_loss']:.3f} -> {res['final_loss']:.3f}"
    )
    show_logdir(res)
    if not res["eval"]:
        click.echo("no evaluation (--eval-episodes 0)")
        return
    rows = [
        [
            f,
            r["after"]["n"],
            num(r["before"]["success"]),
            num(r["after"]["success"]),
            f"{num(r['before']['pos_cm'])} -> {num(r['after']['pos_cm'])}",
            f"{num(r['before']['rot_deg'], 1)} -> {num(r['after']['rot_deg'], 1)}",
        ]
        for f, r in res["eval"].items()
    ]
    table(
        ["family", "held-out (sim)", "success before", "after", "pos err (cm)", "yaw err (deg)"],
        rows,
    )


def show_checkpoints(items: list[dict], where) -> None:
    if not items:
        click.echo(f"no checkpoints in {where}: run `skillgrove policy train`")
        return
    rows = []
    for m in items:
        fams = m.get("families") or ([m["family"]] if m.get("family") else [])
        created = m.get("created")
        when = time.strftime("%m-%d %H:%M", time.localtime(created)) if created else "-"
        rows.append(
            [
                f"v{m.get('version', 0):04d}",
                m.get("error") or m.get("kind", "?"),
                m.get("strategy") or "-",
                version(m.get("parent")),
                when,
                (m.get("sha256") or "-")[:8],
                ",".join(fams) or "-",
            ]
        )
    table(["version", "kind", "strategy", "parent", "created", "sha256", "families"], rows)
    click.echo(f"in {where}")


def show_corrections(res: dict, family: str | None) -> None:
    rows = res["corrections"]
    if not rows:
        click.echo("no corrections stored" + (f" for {family}" if family else ""))
        return
    table(
        ["id", "family", "seed", "expert", "diagnosis", "checkpoint", "instruction"],
        [
            [
                r["id"],
                r["family"],
                r["seed"],
                r["expert"],
                r["diagnosis"],
                version(r["checkpoint"]),
                r["instruction"],
            ]
            for r in rows
        ],
    )
    click.echo(f"{len(rows)} of {res['total']} shown")


def show_queue(res: dict) -> None:
    click.echo(
        f"v{res['version'] or 0:04d} on {res['tried']} held-out {res['family']} scenes: {res['failed']} "
        f"failed, {res['queued']} queued ({res['already_queued']} were queued already); "
        f"{res['waiting']} waiting in all"
    )
    for it in res["items"]:
        click.echo(
            f"  #{it['id']:<5} seed {it['seed']:<5} {it['diagnosis']:22s} {it['instruction']}"
        )
    if res["waiting"]:
        click.echo("correct them on the Corrections page of `skillgrove ui`")
