"""`skillgrove policy train|eval|correct|feedback|checkpoints|corrections`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import App, emit, json_option, pass_app

DEFAULT_FAMILIES = "pick,place,stack,put-in-bowl,rotate,align"


def _families(text: str) -> list[str]:
    from agent.policy.train import check_families

    return list(check_families(text.split(",")))


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
@click.option("--sim-episodes", type=click.IntRange(0, 500), default=0, show_default=True,
              help="Also execute this many held-out scenes per family in the simulator.")  # fmt: skip
@json_option
@pass_app
def train(app: App, families: str, n_train: int, n_test: int, steps: int, seed: int, threads: int,
          sim_episodes: int) -> None:  # fmt: skip
    """Train a policy on scripted-oracle demonstrations and save a new checkpoint version."""
    from agent.policy.train import TrainSettings, train_policy

    settings = TrainSettings(tuple(_families(families)), n_train, n_test, steps, seed=seed, threads=threads,
                             sim_episodes=sim_episodes)  # fmt: skip
    say = (lambda m: None) if app.json else (lambda m: click.echo(m, err=True))
    res = train_policy(app.home, settings, progress=say)

    def human() -> None:
        click.echo(
            f"checkpoint v{res['version']:04d}: {res['checkpoint']} ({res['train_seconds']:.0f} s training)"
        )
        for fam, r in res["eval"].items():
            sim = res["sim"].get(fam, {}).get("success")
            extra = f", sim {sim:.2f}" if sim is not None else ""
            click.echo(f"  {fam:12s} proxy success {r['success']:.2f}{extra}, position {r['pos_cm']:.2f} cm, "
                       f"yaw {r['rot_deg']:.1f} deg")  # fmt: skip

    emit(app, res, human)


@policy.command("eval")
@click.option(
    "--version", "version", default="latest", show_default=True, help="Checkpoint version."
)
@click.option("--families", default=None, help="Families (default: those it was trained on).")
@click.option("--episodes", type=click.IntRange(1, 1000), default=30, show_default=True)
@click.option("--mode", type=click.Choice(["sim", "proxy", "robot"]), default="sim", show_default=True,
              help="sim: execute the predicted action; proxy: pose tolerances; robot: canonical skills "
                   "through the robot API, oracle vs policy poses.")  # fmt: skip
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True)
@json_option
@pass_app
def eval_(
    app: App, version: str, families: str | None, episodes: int, mode: str, threads: int
) -> None:
    """Score a checkpoint on held-out scenes (odd seeds)."""
    from agent.policy.data import load_demos, split_seeds
    from agent.policy.evaluate import evaluate_proxy, evaluate_sim
    from agent.policy.robot_eval import compare_providers
    from agent.policy.train import load_policy

    pol = load_policy(app.home, version, threads=threads)
    fams = _families(families) if families else list(pol.info.get("families") or [])
    if not fams:
        raise click.ClickException("the checkpoint names no families: pass --families")
    seeds = split_seeds("test", episodes)
    if mode == "robot":
        results = compare_providers(pol, fams, seeds)
    elif mode == "sim":
        results = {f: evaluate_sim(pol, f, seeds).to_dict() for f in fams}
    else:
        results = {
            f: evaluate_proxy(pol, load_demos(app.home, f, "test", episodes, pol.spec), f).to_dict()
            for f in fams
        }
    emit(app, {"version": pol.info.get("version"), "mode": mode, "results": results})


@policy.command("correct")
@click.option("--family", required=True, help="Task family of the scene.")
@click.option("--seed", type=int, default=1, show_default=True, help="Scene seed.")
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
def correct(app: App, family: str, seed: int, version: str, action: str, pixel, angle, dx, dy, dz, dyaw,
            expert: str) -> None:  # fmt: skip
    """Show the scene with the predicted pose (PNG) and store a person's correction."""
    from agent.policy.human import corrected_pose, show_scene, store_human_correction
    from agent.policy.train import load_policy

    pol = load_policy(app.home, version)
    scene = show_scene(app.home, pol, family, seed)
    offsets = None
    if any(v is not None for v in (dx, dy, dz, dyaw)):
        offsets = tuple(v if v is not None else 0.0 for v in (dx, dy, dz, dyaw))
    if not app.json:
        click.echo(f"scene: {scene.instruction!r}; predicted pose drawn in {scene.image}")
    if pixel is None and angle is None and offsets is None:
        if app.json or not sys.stdin.isatty():
            emit(app, {"stored": False, "image": str(scene.image), "instruction": scene.instruction,
                       "predicted": {"pick": scene.pick, "place": scene.place},
                       "hint": "pass --pixel U V and/or --angle DEG, or --dx/--dy/--dz/--dyaw, to store a correction"})  # fmt: skip
            return
        pixel, angle = _prompt(scene, action, pol.spec)
    pose = corrected_pose(pol.spec, scene, action, pixel, angle, offsets)
    cid, diag = store_human_correction(app.home, scene, action, pose, expert)
    emit(app, {"stored": True, "id": cid, "diagnosis": diag, "action": action, "image": str(scene.image),
               "instruction": scene.instruction, "predicted": {"pick": scene.pick, "place": scene.place},
               "corrected": pose})  # fmt: skip


def _prompt(scene, action: str, spec):
    """Ask for a pixel and an angle until they are valid (empty answers keep the prediction)."""
    from agent.errors import AgentError
    from agent.policy.human import corrected_pose

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
            if pixel is not None and len(pixel) != 2:
                raise AgentError("type two numbers: U V")
            corrected_pose(spec, scene, action, pixel, angle, None)
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
@json_option
@pass_app
def feedback(app: App, family: str, version: str, rounds: int, attempts: int, eval_episodes: int, steps: int,
             strategy: str, noise_pos: float, noise_yaw: float, threads: int) -> None:  # fmt: skip
    """Correct the policy with the simulated expert, round after round, and fine-tune."""
    from agent.policy.session import feedback_session

    say = (lambda m: None) if app.json else (lambda m: click.echo(m, err=True))
    res = feedback_session(app.home, family, version=version, rounds=rounds, attempts=attempts,
                           eval_episodes=eval_episodes, steps=steps, strategy=strategy, noise_pos=noise_pos / 100,
                           noise_yaw=noise_yaw, threads=threads, progress=say)  # fmt: skip
    emit(app, res)


@policy.command("checkpoints")
@json_option
@pass_app
def checkpoints(app: App) -> None:
    """List the saved checkpoint versions."""
    from agent.policy.checkpoint import list_checkpoints

    items = list_checkpoints(app.home)

    def human() -> None:
        for m in items:
            click.echo(
                f"v{m.get('version', 0):04d}  {m.get('kind', '?'):10s} {','.join(m.get('families') or [m.get('family', '')])}"
            )

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

    store = CorrectionStore(store_path(app.home))
    rows = store.list(family, limit)

    def human() -> None:
        for r in rows:
            click.echo(
                f"#{r['id']:<5} {r['family']:12s} {r['expert']:24s} {r['diagnosis']:22s} {r['instruction']}"
            )

    emit(app, {"total": store.count(family), "corrections": rows}, human)


@corrections.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--family", default=None)
@json_option
@pass_app
def corrections_export(app: App, path: str, family: str | None) -> None:
    """Write corrections (with images) as JSON lines to PATH."""
    from agent.policy.corrections import CorrectionStore, store_path

    n = CorrectionStore(store_path(app.home)).export(Path(path), family)
    emit(app, {"path": str(path), "count": n})
