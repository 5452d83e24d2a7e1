"""Build a small data home with the code of this checkout: the upgrade fixture.

    .venv/bin/python scripts/make_fixture_home.py tests/fixtures/home_v1

What a user's home holds after a few days, written by the real commands (the CLI, in
process) so that it is exactly what this release writes:

- the seed skills, a goal-template composite skill (`put_left_of`, from a `run` with the
  offline goal composer, with stats) and a skill of the user's own in three unverified
  versions by two authors, and
  `nudge_far` adapted from it (lineage);
- two run records (compose, then reuse) with their GIF replays;
- a policy checkpoint of a tiny network (same format as a trained one, 0.2 MB: its
  instruction encoder is the 16-wide hashing embedder),
  a correction of its grasp stored as `policy correct` stores it, and a queued failure
  (`policy queue`);
- the config file (`config.toml`) and the derived search index.

The checkpoint's weights (0.47 MB: the network's yaw head is a fixed size) are too big
to commit: the fixture keeps their manifest alone, which is all a listing reads.

`tests/test_upgrade.py` opens a copy of the committed result with the current code and
checks that what the read commands printed then (`expected.json`, written here) is
still there. Run this once per release whose schema you want to keep: never rewrite
an existing fixture (it is what that release wrote).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

TINY_DIM = 16
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MY_SKILL = '''def nudge(robot, obj, dx=0.02):
    """Push {obj} a little along x.

    Examples:
        nudge the red cube
        give the blue cube a small push
    """
    x, y, z, yaw = robot.get_pose(obj)
    robot.move_to(x - 0.05, y, 0.05)
    robot.move_to(x - 0.05, y, 0.02)
    robot.move_to(x + dx, y, 0.02)
    robot.move_to(x + dx, y, 0.10)
'''


def cli(home: Path, *args: str) -> dict:
    """`skillgrove --home HOME ARGS --json`, in process; its JSON (exits on an error)."""
    from agent.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--home", str(home), *args, "--json"])
    if code not in (0, 3):
        sys.exit(f"skillgrove {' '.join(args)} failed ({code}): {err.getvalue()}{out.getvalue()}")
    return json.loads(out.getvalue())


def tiny_checkpoint(home: Path) -> dict:
    """Save an untrained PoseNet a few channels wide for a 16-wide instruction encoder."""
    import torch

    from agent.policy.checkpoint import save_checkpoint
    from agent.policy.geometry import ImageSpec
    from agent.policy.model import ModelConfig, PoseNet
    from agent.policy.train import encoder_for

    torch.manual_seed(0)
    encoder = encoder_for(home)
    net = PoseNet(ModelConfig(text_dim=3 * TINY_DIM, film_dim=4, channels=(4, 4, 4)))
    meta = {"kind": "base", "families": ["pick"], "n_train": 0, "parent": None}
    info = save_checkpoint(home, net, ImageSpec(), encoder.name, meta)
    return {"version": info.version, "sha256": info.sha256}


def build(home: Path) -> dict:
    home.mkdir(parents=True, exist_ok=False)
    (home / "config.toml").write_text('llm = "offline"\n')
    first = cli(home, "run", "put the red cube to the left of the blue cube", "--episodes", "2")
    again = cli(
        home, "run", "move the green cube to the left of the yellow bowl", "--episodes", "2"
    )
    src = home.parent / "nudge.py"
    src.write_text(MY_SKILL)
    for i, (dx, words) in enumerate(
        (("0.02", "a little"), ("0.03", "a little"), ("0.04", "a bit"))
    ):
        src.write_text(MY_SKILL.replace("0.02", dx).replace("a little", words))
        author = ("human", "human", "llm:fixture")[i]
        cli(home, "skills", "add", str(src), "-n", "nudge", "--unverified", "--author", author)
    src.unlink()
    src.write_text(MY_SKILL.replace("nudge", "nudge_far").replace("0.02", "0.08"))
    from skills.library import open_library

    with open_library(home) as library:  # lineage: only the API sets a parent today
        code = src.read_text()
        library.add("nudge_far", code, author="synthesizer", verified=False, parent=("nudge", 3))
    src.unlink()
    import agent.policy.embed
    from skills.embed import HashEmbedder

    # MiniLM's 1152-wide instruction embedding makes even a tiny network's checkpoint
    # 0.8 MB; the policy part uses the hashing embedder (as the tests do): 0.47 MB, still
    # too big to commit, so the fixture keeps its manifest alone (see `main`).
    agent.policy.embed.default_embedder = lambda: HashEmbedder(TINY_DIM)
    tiny_checkpoint(home)
    cli(home, "policy", "correct", "--family", "pick", "--seed", "1", "--dx", "0.01")
    cli(home, "policy", "queue", "--family", "pick", "--episodes", "1", "--threads", "1")
    names = [s["name"] for s in cli(home, "skills", "list")["skills"]]
    runs = [first["run_id"], again["run_id"]]
    return {
        "skills list": cli(home, "skills", "list"),
        "skills show": {n: cli(home, "skills", "show", n) for n in names},
        "skills history": {n: cli(home, "skills", "history", n) for n in names},
        "skills search": cli(home, "skills", "search", "push the red cube a little"),
        "runs list": cli(home, "runs", "list"),
        "runs show": {r: cli(home, "runs", "show", r) for r in runs},
        "policy corrections list": cli(home, "policy", "corrections", "list"),
        "policy checkpoints": cli(home, "policy", "checkpoints"),
        "pending": pending(home),
    }


def pending(home: Path) -> list[dict]:
    """The queued failures (the web UI's Corrections page reads them; no CLI lists them)."""
    from agent.policy.corrections import store_path
    from agent.policy.queue import PendingQueue

    return [
        {"id": p.id, "family": p.scene.family, "seed": p.scene.seed, "diagnosis": p.diagnosis}
        for p in PendingQueue(store_path(home)).waiting()
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("home", type=Path, help="where to build it (must not exist)")
    args = ap.parse_args()
    expected = build(args.home)
    (args.home / "library.lock").unlink()  # a lock file is no part of the data
    for pt in (args.home / "policy" / "checkpoints").glob("*.pt"):
        pt.unlink()  # 0.47 MB: the manifest alone is kept (listings read only manifests)
    text = json.dumps(expected, indent=1, sort_keys=True).replace(str(args.home), "<home>")
    (args.home / "expected.json").write_text(text + "\n")
    print(json.dumps({k: len(v) for k, v in expected.items()}))


if __name__ == "__main__":
    main()
