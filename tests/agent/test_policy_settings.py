"""The policy's settings: one `Optim` shared by every training config, and the `[policy]`
section of `<home>/config.toml` giving the `skillgrove policy` commands their defaults
(flags > `SKILLGROVE_POLICY_*` > the file > the defaults)."""

from __future__ import annotations

import json

import pytest

from agent.policy.settings import Optim
from tests.agent.policy_helpers import fails, files, invoke, run

# `policy train` builds the full-width network (MiniLM's 384 dimensions).
EMBED_DIM = 384
pytestmark = pytest.mark.usefixtures("fast_embeddings")
TRAIN = ("policy", "train", "--families", "place", "--n-train", "6", "--n-test", "3")
TRAIN += ("--steps", "4", "--threads", "1")


def _config(home, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text)


def _seed_of_latest(home) -> int:
    return run(home, "policy", "checkpoints")["checkpoints"][-1]["seed"]


def test_config_file_seed_is_the_default_and_env_then_flag_beat_it(tmp_path, monkeypatch):
    home = tmp_path / "home"
    _config(home, "[policy]\nseed = 5\n")
    run(home, *TRAIN)
    assert _seed_of_latest(home) == 5
    monkeypatch.setenv("SKILLGROVE_POLICY_SEED", "4")
    run(home, *TRAIN)
    assert _seed_of_latest(home) == 4
    run(home, *TRAIN, "--seed", "3")
    assert _seed_of_latest(home) == 3


def _errors(home) -> tuple[float, float]:
    """Held-out position and yaw errors of a fresh training run."""
    scores = run(home, *TRAIN)["eval"]["place"]
    return scores["pos_cm"], scores["rot_deg"]


def test_config_file_lr_reaches_the_optimizer(tmp_path):
    """Same seed and data: two runs with the default learning rate agree, a run with the
    file's (vanishing) learning rate does not."""
    home = tmp_path / "home"
    first = _errors(home)
    assert _errors(home) == first
    _config(home, "[policy]\nlr = 1e-9\n")
    assert _errors(home) != first


def test_help_shows_the_configured_default(tmp_path):
    home = tmp_path / "home"
    _config(home, "[policy]\nthreads = 3\n")
    code, out, _ = invoke(home, "policy", "eval", "--help", as_json=False)
    assert code == 0
    (line,) = [x for x in out.splitlines() if "--threads" in x]
    assert "default: 3;" in line


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[policy]\nlearning_rate = 0.1\n", "unknown key policy.learning_rate in"),
        ("[policy]\nthreads = 0\n", "policy.threads in"),
        ('[policy]\nlr = "fast"\n', "policy.lr in"),
        ("[policy]\nsteps = 10\n", "unknown key policy.steps in"),
    ],
)
def test_a_bad_policy_setting_is_one_line_and_writes_nothing(tmp_path, text, needle):
    home = tmp_path / "home"
    _config(home, text)
    before = files(home)
    message = fails(home, *TRAIN, code=1)
    assert needle in message and "config.toml" in message
    assert files(home) == before


def test_optim_copies_are_validated_and_none_keeps_a_setting():
    base = Optim(lr=0.01, threads=3)
    assert base.but(seed=7, threads=None) == Optim(lr=0.01, threads=3, seed=7)
    with pytest.raises(ValueError):
        base.but(threads=0)
    with pytest.raises(ValueError):
        Optim(learning_rate=0.1)


def test_a_stream_config_travels_to_a_worker_and_back():
    from agent.policy.stream import StreamConfig

    cfg = StreamConfig(("place", "stack"), n_train=7, optim=Optim(seed=3, batch_size=8))
    back = StreamConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg and back.optim.batch_size == 8
