"""Training curves as TensorBoard event files: one directory per run under the data home.

    <home>/tensorboard/<command>-<YYYYmmdd-HHMMSS>-<id>/events.out.tfevents.*

`policy train|feedback|finetune` and `bench continual` open a `Curves` and write their loss,
per-task success and per-round corrections to it; `tensorboard --logdir <home>/tensorboard`
shows every run side by side. The writer is torch's `SummaryWriter` (standard event files,
the `tensorboard` package); it is imported, and the directory made, at the first scalar, so
a command that fails its checks leaves nothing behind.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path


def tensorboard_root(home: Path) -> Path:
    """Where every run's event files go: `<home>/tensorboard`."""
    return Path(home) / "tensorboard"


class Curves:
    """Scalars of one run, written to `logdir` (made on the first write).

    Args:
        logdir: the run's directory.
    """

    def __init__(self, logdir: Path) -> None:
        self.logdir = Path(logdir)
        self._writer = None

    @classmethod
    def open(cls, home: Path, command: str) -> Curves:
        """A new run directory `<home>/tensorboard/<command>-<timestamp>-<id>`."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return cls(tensorboard_root(home) / f"{command}-{stamp}-{secrets.token_hex(3)}")

    def scalar(self, tag: str, value: float, step: int) -> None:
        """Record `value` of `tag` at `step` (NaN and None are skipped)."""
        if value is None or value != value:
            return
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.logdir), flush_secs=30)
        self._writer.add_scalar(tag, float(value), int(step))

    def loss(self, tag: str = "loss/train", offset: int = 0) -> Callable[[int, float], None]:
        """A `loop.fit` step logger writing the loss of step s at `offset + s`."""
        return lambda step, value: self.scalar(tag, value, offset + step)

    def close(self) -> None:
        """Flush and close the event file (a run that wrote nothing has none)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> Curves:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
