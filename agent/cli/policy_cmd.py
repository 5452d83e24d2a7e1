"""`skillgrove policy train|eval|correct|queue|finetune|feedback|checkpoints|corrections`."""

from __future__ import annotations

import contextlib
import math
import sys
import time
from pathlib import Path

import click

from agent.cli import App, emit, json_option, pass_app

DEFAULT_FAMILIES = "pick,place,stack,put-in-bowl,rotate,align"


augment_option = click.option(
    "--augment/--no-augment",
    default=True,
    show_default=True,
    help="Train on random turns and shifts of the table in each correction's image (SE(2) augmentation).",
)


def _families(text: str) -> list[str]:
    from agent.policy.train import check_families

    return list(check_families(text.split(",")))


def _say(app: App):
    """Progress lines on stderr (none with --json)."""
    return (lambda m: None) if app.json else (lambda m: click.echo(m, err=True))


def _num(v, digits: int = 2) -> str:
    """A number for a table cell ("-" when missing or NaN)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}f}"


def _pose(p) -> str:
    """(x, y, z, yaw radians) as people read it."""
    if p is None:
        return "-"
    return f"x {p[0]:.3f}  y {p[1]:.3f}  z {p[2]:.3f} m  yaw {math.degrees(p[3]):.1f} deg"


def _table(columns: list[str], rows: list[list]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(*columns)
    for col in t.columns[:-1]:  # only the last (free-text) column wraps
        col.no_wrap = True
    for r in rows:
        t.add_row(*[str(x) for x in r])
    Console().print(t)


@click.group()
def policy() -> None:
    """Train, evaluate and correct the pose policy."""


@policy.command("train")
@click.option(
    "--families", default=DEFAULT_FAMILIES, show_default=True, help="Comma-separated task families."
)
@click.option(
    "--n-train",
    type=click.IntRange(1, 5000),
    default=400,
    show_default=True,
    help="Demonstrations per family.",
)
@click.option(
    "--n-test",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="Held-out scenes per family.",
)
@click.option(
    "--steps",
    type=click.IntRange(1, 100000),
    default=3000,
    show_default=True,
    help="Optimizer steps.",
)
@click.option("--seed", type=click.IntRange(0, 2**31), default=0, show_default=True)
@click.option(
    "--threads", type=click.IntRange(1, 64), default=2, show_default=True, help="Torch threads."
)
@click.option(
    "--sim-episodes",
    type=click.IntRange(0, 500),
    default=0,
    show_default=True,
    help="Also execute this many held-out scenes per family in the simulator.",
)
@json_option
@pass_app
def train(
    app: App,
    families: str,
    n_train: int,
    n_test: int,
    steps: int,
    seed: int,
    threads: int,
    sim_episodes: int,
) -> None:
    """Train a policy on scripted-oracle demonstrations and save a new checkpoint version."""
    from agent.policy.train import TrainSettings, train_policy

    settings = TrainSettings(
        tuple(_families(families)),
        n_train,
        n_test,
        steps,
        seed=seed,
        threads=threads,
        sim_episodes=sim_episodes,
    )
    res = train_policy(app.home, settings, progress=_say(app))

    def human() -> None:
        click.echo(f"checkpoint v{res['version']:04d}: {res['checkpoint']}")
        click.echo(
            f"{res['steps']} steps, {res['train_seconds']:.0f} s training, {res['seconds']:.0f} s in all"
        )
        rows = []
        for fam, r in res["eval"].items():
            sim = res["sim"].get(fam, {}).get("success")
            rows.append(
                [
                    fam,
                    r["n"],
                    _num(r["success"]),
                    _num(r["pos_cm"]),
                    _num(r["rot_deg"], 1),
                    _num(sim),
                ]
            )
        _table(
            ["family", "held-out", "proxy success", "pos err (cm)", "yaw err (deg)", "sim success"],
            rows,
        )

    emit(app, res, human)


@policy.command("eval")
@click.option(
    "--version", "version", default="latest", show_default=True, help="Checkpoint version."
)
@click.option("--families", default=None, help="Families (default: those it was trained on).")
@click.option("--episodes", type=click.IntRange(1, 1000), default=30, show_default=True)
@click.option(
    "--mode",
    type=click.Choice(["sim", "proxy", "robot"]),
    default="sim",
    show_default=True,
    help="sim: execute the predicted action; proxy: pose tolerances; robot: canonical skills "
    "through the robot API, oracle vs policy poses.",
)
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@json_option
@pass_app
def eval_(
    app: App, version: str, families: str | None, episodes: int, mode: str, threads: int
) -> None:
    """Score a checkpoint on held-out scenes (odd seeds)."""
    from agent.cli.progress import progress
    from agent.policy.data import load_demos, split_seeds
    from agent.policy.evaluate import evaluate_proxy, evaluate_sim
    from agent.policy.robot_eval import compare_providers
    from agent.policy.train import load_policy

    asked = _families(families) if families else None  # bad names fail before any loading
    pol = load_policy(app.home, version, threads=threads)
    fams = asked or list(pol.info.get("families") or [])
    if not fams:
        raise click.ClickException("the checkpoint names no families: pass --families")
    seeds = split_seeds("test", episodes)
    results = {}
    with progress(f"policy eval ({mode})", len(fams), quiet=app.json) as advance:
        for f in fams:
            if mode == "robot":
                results.update(compare_providers(pol, [f], seeds))
            elif mode == "sim":
                results[f] = evaluate_sim(pol, f, seeds).to_dict()
            else:
                results[f] = evaluate_proxy(
                    pol, load_demos(app.home, f, "test", episodes, pol.spec), f
                ).to_dict()
            advance()
    res = {
        "version": pol.info.get("version"),
        "mode": mode,
        "episodes": episodes,
        "results": results,
    }

    def human() -> None:
        click.echo(
            f"checkpoint v{res['version']:04d}, mode {mode}, {episodes} held-out scenes per family"
        )
        if mode == "robot":
            rows = [
                [f, r["episodes"], _num(r["oracle"]), _num(r["policy"]), _num(r["seconds"], 1)]
                for f, r in results.items()
            ]
            _table(["family", "episodes", "oracle poses", "policy poses", "seconds"], rows)
            return
        rows = [
            [
                f,
                r["n"],
                _num(r["success"]),
                _num(r["pos_cm"]),
                _num(r["rot_deg"], 1),
                _num(r["seconds"], 1),
            ]
            for f, r in results.items()
        ]
        _table(["family", "episodes", "success", "pos err (cm)", "yaw err (deg)", "seconds"], rows)

    emit(app, res, human)


@policy.command("correct")
@click.option("--family", required=True, help="Task family of the scene.")
@click.option(
    "--seed", type=click.IntRange(0, 2**32 - 1), default=1, show_default=True, help="Scene seed."
)
@click.option("--version", default="latest", show_default=True, help="Checkpoint version.")
@click.option("--action", type=click.Choice(["pick", "place"]), default="pick", show_default=True)
@click.option(
    "--pixel", nargs=2, type=str, default=None, metavar="U V", help="Corrected point in the PNG."
)
@click.option(
    "--angle", type=str, default=None, help="Corrected gripper yaw, degrees in [-180, 180]."
)
@click.option("--dx", type=str, default=None, help="Offset along x, meters.")
@click.option("--dy", type=str, default=None, help="Offset along y, meters.")
@click.option("--dz", type=str, default=None, help="Offset along z, meters.")
@click.option("--dyaw", type=str, default=None, help="Yaw offset, degrees.")
@click.option(
    "--expert",
    default="human",
    show_default=True,
    help="Who corrects (stored with the correction).",
)
@json_option
@pass_app
def correct(
    app: App,
    family: str,
    seed: int,
    version: str,
    action: str,
    pixel,
    angle,
    dx,
    dy,
    dz,
    dyaw,
    expert: str,
) -> None:
    """Show the scene with the predicted pose (PNG) and store a person's correction.

    The PNG (printed) is the policy's top view enlarged 4 times, with the predicted pick
    (circle) and place (square). Correct with --pixel U V (a point in that PNG) and/or
    --angle DEG, or with offsets --dx/--dy/--dz (meters) and --dyaw (degrees); without
    any, a terminal asks for them.
    """
    from agent.errors import AgentError
    from agent.policy.human import (
        check_typed,
        corrected_pose,
        draw_scene,
        show_scene,
        store_human_correction,
    )
    from agent.policy.train import check_families, load_policy

    check_families([family])
    if not expert.strip() or len(expert) > 80:
        raise AgentError("--expert must be a non-empty name of at most 80 characters")
    offsets = None
    if any(v is not None for v in (dx, dy, dz, dyaw)):
        offsets = tuple(v if v is not None else 0.0 for v in (dx, dy, dz, dyaw))
    pol = load_policy(app.home, version)
    typed = pixel is not None or angle is not None or offsets is not None
    if typed:
        check_typed(pol.spec, family, action, pixel, angle, offsets)  # before any file is written
    scene = show_scene(app.home, pol, family, seed)
    shown = {
        "family": family,
        "seed": seed,
        "checkpoint": scene.checkpoint,
        "image": str(scene.image),
        "instruction": scene.instruction,
        "predicted": {"pick": scene.pick, "place": scene.place},
    }
    if not typed:
        if app.json or not sys.stdin.isatty():
            res = {
                "stored": False,
                **shown,
                "hint": "pass --pixel U V and/or --angle DEG, or --dx/--dy/--dz/--dyaw, to store a correction",
            }
            emit(app, res, lambda: _show_correction(res))
            return
        click.echo(f"scene: {scene.instruction!r}; predicted pose drawn in {scene.image}")
        pixel, angle = _prompt(scene, action, pol.spec)
    try:
        pose = corrected_pose(pol.spec, scene, action, pixel, angle, offsets)
        cid, diag = store_human_correction(app.home, scene, action, pose, expert)
    except AgentError:
        with contextlib.suppress(OSError):
            scene.image.unlink()  # nothing stored: leave nothing behind
        raise
    draw_scene(pol.spec, scene, action, pose)
    res = {
        "stored": True,
        "id": cid,
        "diagnosis": diag,
        "action": action,
        **shown,
        "corrected": pose,
    }
    emit(app, res, lambda: _show_correction(res))


def _show_correction(res: dict) -> None:
    ver = res["checkpoint"]
    click.echo(
        f"scene: {res['family']} seed {res['seed']}: {res['instruction']!r}"
        + (f" (checkpoint v{ver:04d})" if isinstance(ver, int) else "")
    )
    click.echo(f"predicted pick:  {_pose(res['predicted']['pick'])}")
    if res["predicted"]["place"] is not None:
        click.echo(f"predicted place: {_pose(res['predicted']['place'])}")
    if res["stored"]:
        click.echo(
            f"corrected {res['action']}: {' ' * (5 - len(res['action']))}{_pose(res['corrected'])}"
        )
        click.echo(f"stored correction #{res['id']} (diagnosis: {res['diagnosis']})")
    else:
        click.echo(f"nothing stored: {res['hint']}")
    click.echo(f"image: {res['image']}")


def _prompt(scene, action: str, spec):
    """Ask for a pixel and an angle until they are valid (empty answers keep the prediction)."""
    from agent.errors import AgentError
    from agent.policy.human import check_typed

    while True:
        raw = click.prompt(
            f"corrected {action} pixel 'U V' in the PNG (empty: keep)",
            default="",
            show_default=False,
        )
        ang = click.prompt("corrected yaw in degrees (empty: keep)", default="", show_default=False)
        pixel = tuple(raw.replace(",", " ").split()) if raw.strip() else None
        angle = ang.strip() or None
        try:
            check_typed(spec, scene.family, action, pixel, angle, None)
            return pixel, angle
        except AgentError as exc:
            click.echo(f"error: {exc}", err=True)


@policy.command("feedback")
@click.option("--family", required=True, help="The task to learn from corrections.")
@click.option("--version", default="latest", show_default=True)
@click.option("--rounds", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option(
    "--attempts",
    type=click.IntRange(1, 500),
    default=20,
    show_default=True,
    help="Scenes tried per round.",
)
@click.option("--eval-episodes", type=click.IntRange(1, 500), default=30, show_default=True)
@click.option(
    "--steps",
    type=click.IntRange(1, 10000),
    default=150,
    show_default=True,
    help="Fine-tuning steps per round.",
)
@click.option(
    "--strategy",
    default="replay",
    show_default=True,
    help="Continual-learning strategy (e.g. replay+lwf).",
)
@click.option(
    "--noise-pos",
    type=click.FloatRange(0, 5),
    default=0.0,
    show_default=True,
    help="Expert noise, cm.",
)
@click.option(
    "--noise-yaw",
    type=click.FloatRange(0, 45),
    default=0.0,
    show_default=True,
    help="Expert noise, degrees.",
)
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@augment_option
@click.option(
    "--keep-successes/--corrections-only",
    default=True,
    show_default=True,
    help="Also train on the attempts that succeeded (the policy's own verified poses).",
)
@json_option
@pass_app
def feedback(
    app: App,
    family: str,
    version: str,
    rounds: int,
    attempts: int,
    eval_episodes: int,
    steps: int,
    strategy: str,
    noise_pos: float,
    noise_yaw: float,
    threads: int,
    augment: bool,
    keep_successes: bool,
) -> None:
    """Correct the policy with the simulated expert, round after round, and fine-tune."""
    from agent.policy.session import feedback_session

    res = feedback_session(
        app.home,
        family,
        version=version,
        rounds=rounds,
        attempts=attempts,
        eval_episodes=eval_episodes,
        steps=steps,
        strategy=strategy,
        noise_pos=noise_pos / 100,
        noise_yaw=noise_yaw,
        threads=threads,
        augment=augment,
        keep_successes=keep_successes,
        progress=_say(app),
    )

    def human() -> None:
        start = res.get("start_checkpoint")
        click.echo(
            f"{res['family']} with {res['strategy']}, expert {res['expert']}"
            + (f", from checkpoint v{start:04d}" if isinstance(start, int) else "")
            + f": success {_num(res['start_success'])} before any correction"
        )
        olds = sorted({f for r in res["rounds"] for f in r.get("old_tasks") or {}})
        rows = []
        for r in res["rounds"]:
            ver = r.get("checkpoint")
            rows.append(
                [
                    r["round"],
                    f"{r['failures']}/{r['attempts']}",
                    r["corrections"],
                    r["successes_kept"],
                    _num(r["success"]),
                    *[_num((r.get("old_tasks") or {}).get(f)) for f in olds],
                    _num(r["finetune_seconds"], 1),
                    f"v{ver:04d}" if isinstance(ver, int) else "-",
                ]
            )
        _table(
            [
                "round",
                "failed",
                "corrections",
                "kept",
                "success",
                *[f"{f} (old)" for f in olds],
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

    emit(app, res, human)


@policy.command("finetune")
@click.option("--version", default="latest", show_default=True, help="Checkpoint to start from.")
@click.option(
    "--family",
    "families",
    multiple=True,
    metavar="F",
    help="Only corrections of this family (repeat for several; default: all).",
)
@click.option(
    "--strategy",
    default="replay",
    show_default=True,
    help="Continual-learning strategy (e.g. replay+lwf).",
)
@click.option(
    "--steps",
    type=click.IntRange(1, 10000),
    default=150,
    show_default=True,
    help="Fine-tuning steps.",
)
@click.option(
    "--all",
    "use_all",
    is_flag=True,
    help="Learn from every stored correction, not only those no fine-tune has used.",
)
@click.option(
    "--eval-episodes",
    type=click.IntRange(0, 500),
    default=20,
    show_default=True,
    help="Held-out scenes per corrected family executed before and after (0: none).",
)
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@augment_option
@json_option
@pass_app
def finetune(
    app: App,
    version: str,
    families: tuple[str, ...],
    strategy: str,
    steps: int,
    use_all: bool,
    eval_episodes: int,
    threads: int,
    augment: bool,
) -> None:
    """Fine-tune on people's stored corrections and save a new checkpoint version.

    Takes the corrections no fine-tune has used yet (`policy correct`, or the queue's
    Corrections page in the web UI), fine-tunes with --strategy while the families the
    checkpoint knows are protected, and executes held-out scenes of the corrected
    families before and after.
    """
    from agent.policy.finetune import FinetuneConfig, finetune_session

    config = FinetuneConfig(
        version,
        tuple(f for f in families),
        strategy,
        steps,
        use_all,
        eval_episodes,
        augment=augment,
        threads=threads,
    )
    res = finetune_session(app.home, config, progress=_say(app))

    def human() -> None:
        parent = res["parent"]
        click.echo(f"checkpoint v{res['version']:04d}: {res['checkpoint']}")
        start = f"from v{parent:04d}" if isinstance(parent, int) else "from an unnumbered one"
        click.echo(
            f"{start}, {len(res['corrections'])} corrections of {', '.join(res['corrected_families'])}, "
            f"{res['strategy']}, {res['steps']} steps in {res['train_seconds']:.1f} s, "
            f"loss {res['first_loss']:.3f} -> {res['final_loss']:.3f}"
        )
        if not res["eval"]:
            click.echo("no evaluation (--eval-episodes 0)")
            return
        rows = [
            [
                f,
                r["after"]["n"],
                _num(r["before"]["success"]),
                _num(r["after"]["success"]),
                f"{_num(r['before']['pos_cm'])} -> {_num(r['after']['pos_cm'])}",
                f"{_num(r['before']['rot_deg'], 1)} -> {_num(r['after']['rot_deg'], 1)}",
            ]
            for f, r in res["eval"].items()
        ]
        _table(
            [
                "family",
                "held-out (sim)",
                "success before",
                "after",
                "pos err (cm)",
                "yaw err (deg)",
            ],
            rows,
        )

    emit(app, res, human)


@policy.command("checkpoints")
@json_option
@pass_app
def checkpoints(app: App) -> None:
    """List the saved checkpoint versions (versioned, hash-checked, in <home>/policy/checkpoints)."""
    from agent.policy.checkpoint import checkpoint_dir, list_checkpoints

    items = list_checkpoints(app.home)

    def human() -> None:
        if not items:
            click.echo(
                f"no checkpoints in {checkpoint_dir(app.home)}: run `skillgrove policy train`"
            )
            return
        rows = []
        for m in items:
            fams = m.get("families") or ([m["family"]] if m.get("family") else [])
            created = m.get("created")
            when = time.strftime("%m-%d %H:%M", time.localtime(created)) if created else "-"
            parent = m.get("parent")
            rows.append(
                [
                    f"v{m.get('version', 0):04d}",
                    m.get("error") or m.get("kind", "?"),
                    m.get("strategy") or "-",
                    f"v{parent:04d}" if isinstance(parent, int) else "-",
                    when,
                    (m.get("sha256") or "-")[:8],
                    ",".join(fams) or "-",
                ]
            )
        _table(["version", "kind", "strategy", "parent", "created", "sha256", "families"], rows)
        click.echo(f"in {checkpoint_dir(app.home)}")

    emit(app, {"checkpoints": items}, human)


@policy.group("corrections")
def corrections() -> None:
    """List and export stored corrections."""


@corrections.command("list")
@click.option("--family", default=None)
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@json_option
@pass_app
def corrections_list(app: App, family: str | None, limit: int) -> None:
    """Stored corrections, newest first (without images)."""
    from agent.policy.corrections import CorrectionStore, store_path
    from agent.policy.train import check_families

    if family is not None:
        check_families([family])
    store = CorrectionStore(store_path(app.home))
    rows = store.list(family, limit)
    total = store.count(family)

    def human() -> None:
        if not rows:
            click.echo("no corrections stored" + (f" for {family}" if family else ""))
            return
        _table(
            ["id", "family", "seed", "expert", "diagnosis", "checkpoint", "instruction"],
            [
                [
                    r["id"],
                    r["family"],
                    r["seed"],
                    r["expert"],
                    r["diagnosis"],
                    f"v{r['checkpoint']:04d}" if isinstance(r["checkpoint"], int) else "-",
                    r["instruction"],
                ]
                for r in rows
            ],
        )
        click.echo(f"{len(rows)} of {total} shown")

    emit(app, {"total": total, "corrections": rows}, human)


@corrections.command("export")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--family", default=None)
@click.option("--force", is_flag=True, help="Replace PATH if it is an existing regular file.")
@json_option
@pass_app
def corrections_export(app: App, path: Path, family: str | None, force: bool) -> None:
    """Write corrections (with images) as JSON lines to PATH.

    PATH must not exist (unless --force replaces a regular file), nor be a directory,
    device or link to one, nor lie in a data home; it is written atomically.
    """
    from agent.policy.corrections import CorrectionStore, store_path
    from agent.policy.train import check_families
    from skills.files import check_target, safe_write

    if family is not None:
        check_families([family])
    check_target(path, force=force, home=app.home_path)  # before the store is opened
    store = CorrectionStore(store_path(app.home))
    with safe_write(path, force=force, home=app.home_path) as tmp:  # the whole file or none
        n = store.export(tmp, family)
    emit(
        app,
        {"path": str(path), "count": n},
        lambda: click.echo(f"exported {n} corrections to {path}"),
    )


@policy.command("queue")
@click.option("--family", required=True, help="Task family of the held-out scenes.")
@click.option(
    "--episodes",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="Held-out scenes to try (odd seeds, as `policy eval`).",
)
@click.option(
    "--start",
    type=click.IntRange(0, 100000),
    default=0,
    show_default=True,
    help="Skip this many held-out scenes first.",
)
@click.option("--version", default="latest", show_default=True, help="Checkpoint version.")
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@json_option
@pass_app
def queue(app: App, family: str, episodes: int, start: int, version: str, threads: int) -> None:
    """Run the policy on held-out scenes and queue its failures for a person to correct.

    Queued failures wait on the web UI's Corrections page (`skillgrove ui`); each one is
    the scene `policy correct --family F --seed S` shows, so either can correct it.
    """
    from agent.policy.queue import enqueue_failures

    say = (lambda m: None) if app.json else (lambda m: click.echo(m, err=True))
    res = enqueue_failures(
        app.home,
        version,
        _families(family)[0],
        episodes,
        start=start,
        threads=threads,
        progress=say,
    )

    def human() -> None:
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

    emit(app, res, human)
