"""Versioned, hash-checked policy checkpoints in the data home.

    <home>/policy/checkpoints/v0001.pt     torch.save of plain tensors, lists and numbers
    <home>/policy/checkpoints/v0001.json   manifest: sha256 of the .pt, parent, what it
                                           was trained on, metrics, creation time

A version is only visible once its manifest exists (written last, atomically), so a
crash mid-save leaves no half checkpoint behind. Loading recomputes the file's SHA-256
and refuses a mismatch: a corrupt or tampered checkpoint is never loaded silently. The
.pt is read with `torch.load(weights_only=True)` (no pickled code). The manifest is not
under the hash, so what it says is checked against the hashed file: a version's manifest
must name that version's own file, and the weights must carry the same version number
(a manifest pointed at another version's weights and hash is refused).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import AgentError
from agent.policy.manifest_schema import parse_manifest

FORMAT = 1
_NAME = re.compile(r"^v(\d{4,})\.json$")


def checkpoint_dir(home: Path) -> Path:
    """Where the checkpoints live."""
    return Path(home) / "policy" / "checkpoints"


@dataclass(frozen=True)
class CheckpointInfo:
    """A saved checkpoint: version, file, hash and its manifest."""

    version: int
    path: Path
    sha256: str
    manifest: dict

    @property
    def name(self) -> str:
        return f"v{self.version:04d}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions(home: Path) -> list[int]:
    """Versions with a manifest, ascending."""
    d = checkpoint_dir(home)
    if not d.is_dir():
        return []
    return sorted(int(m.group(1)) for p in d.iterdir() if (m := _NAME.match(p.name)))


def list_checkpoints(home: Path) -> list[dict]:
    """Manifests of every checkpoint, oldest first (a bad one as {"version", "error"})."""
    out = []
    for v in versions(home):
        mpath = checkpoint_dir(home) / f"v{v:04d}.json"
        try:
            out.append(parse_manifest(mpath.read_text(), mpath, v))
        except (OSError, UnicodeDecodeError):
            out.append({"version": v, "error": "unreadable manifest"})
        except AgentError as exc:
            what = "unreadable" if "unreadable manifest" in str(exc) else "invalid"
            out.append({"version": v, "error": f"{what} manifest", "detail": str(exc)})
    return out


def _payload(model, spec, encoder_name: str, version: int) -> dict[str, Any]:
    from agent.policy.strategies.lora import AdapterRouter

    lora, router = None, None
    net = model
    if isinstance(model, AdapterRouter):
        cfg = next(iter(model.peft.peft_config.values()))
        lora = {
            "r": int(cfg.r),
            "alpha": int(cfg.lora_alpha),
            "targets": sorted(cfg.target_modules),
            "adapters": model.adapters,
        }
        router = {"keys": model.keys.clone(), "owners": list(model.owners)}
        net = model.peft.get_base_model()
    return {
        "format": FORMAT,
        "version": version,
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "model_config": net.config.to_dict(),
        "spec": spec.to_dict(),
        "encoder": encoder_name,
        "lora": lora,
        "router": router,
    }


def save_checkpoint(
    home: Path, model, spec, encoder_name: str, meta: dict | None = None
) -> CheckpointInfo:
    """Save `model` as the next version; returns its info.

    Args:
        home: the data home.
        model: a `PoseNet` or a LoRA `AdapterRouter`.
        spec: the `ImageSpec` it was trained with.
        encoder_name: name of the instruction encoder (embeddings must match at load).
        meta: what to record in the manifest (families, strategy, parent, metrics...).
    """
    import torch

    d = checkpoint_dir(home)
    d.mkdir(parents=True, exist_ok=True)
    version = (versions(home) or [0])[-1] + 1
    while (d / f"v{version:04d}.pt").exists():  # a crashed save left a file without manifest
        version += 1
    path = d / f"v{version:04d}.pt"
    tmp = path.with_suffix(".pt.tmp")
    torch.save(_payload(model, spec, encoder_name, version), tmp)
    tmp.replace(path)
    digest = sha256_file(path)
    manifest = {
        "version": version,
        "file": path.name,
        "sha256": digest,
        "created": time.time(),
        "encoder": encoder_name,
        **(meta or {}),
    }
    mtmp = d / f"v{version:04d}.json.tmp"
    mtmp.write_text(json.dumps(manifest, indent=1, default=str))
    mtmp.replace(d / f"v{version:04d}.json")
    return CheckpointInfo(version, path, digest, manifest)


def resolve(home: Path, version: int | str | None = None) -> CheckpointInfo:
    """The manifest of a version ("latest"/None, 3, "v0003"), checked to exist."""
    have = versions(home)
    if not have:
        raise AgentError(
            f"no policy checkpoint in {checkpoint_dir(home)}: run `skillgrove policy train` first"
        )
    if version in (None, "latest"):
        v = have[-1]
    else:
        try:
            v = int(str(version).lstrip("v"))
        except ValueError:
            raise AgentError(
                f"bad checkpoint version {version!r} (use a number such as 3 or v0003)"
            ) from None
        if v not in have:
            raise AgentError(
                f"no checkpoint v{v:04d} (have: {', '.join(f'v{x:04d}' for x in have)})"
            )
    mpath = checkpoint_dir(home) / f"v{v:04d}.json"
    try:
        text = mpath.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentError(
            f"checkpoint v{v:04d} has an unreadable manifest ({mpath}): {exc}"
        ) from None
    manifest = parse_manifest(text, mpath, v)  # typed before any weights or scene are touched
    name, digest = manifest["file"], manifest["sha256"]
    if name != f"v{v:04d}.pt":
        raise AgentError(
            f"checkpoint v{v:04d}'s manifest names the file {name!r}, not v{v:04d}.pt; refusing it"
        )
    path = checkpoint_dir(home) / name
    return CheckpointInfo(v, path, digest, manifest)


def load_checkpoint(home: Path, version: int | str | None = None) -> tuple[Any, Any, dict]:
    """(model, spec, payload) of a checkpoint, after checking its SHA-256.

    Raises:
        AgentError: missing, corrupt (hash mismatch) or unreadable checkpoint.
    """
    import torch

    from agent.policy.geometry import ImageSpec
    from agent.policy.model import ModelConfig, PoseNet

    info = resolve(home, version)
    if not info.path.exists():
        raise AgentError(f"checkpoint {info.name} is missing its weights file {info.path}")
    actual = sha256_file(info.path)
    if actual != info.sha256:
        raise AgentError(
            f"checkpoint {info.name} is corrupt: sha256 {actual[:12]}... does not match the manifest's "
            f"{info.sha256[:12]}...; refusing to load it"
        )
    try:
        payload = torch.load(info.path, map_location="cpu", weights_only=True)
        if payload.get("format") != FORMAT:
            raise AgentError(
                f"checkpoint {info.name} has format {payload.get('format')}, expected {FORMAT}"
            )
        stored = payload.get("version", info.version)  # none saved before versions were: no check
        if stored != info.version:
            raise AgentError(
                f"checkpoint {info.name} holds the weights of v{stored:04d}; refusing it"
            )
        model = PoseNet(ModelConfig.from_dict(payload["model_config"]))
        if payload.get("lora"):
            model = _rebuild_lora(model, payload)
        model.load_state_dict(payload["state_dict"])
    except AgentError:
        raise
    except Exception as exc:  # torch raises many types for a bad file, some with many lines
        lines = [x.strip() for x in str(exc).splitlines() if x.strip()] or [type(exc).__name__]
        why = " ".join(lines[:2]) if lines[0].endswith(":") else lines[0]
        raise AgentError(f"checkpoint {info.name} cannot be loaded: {why}") from None
    model.eval()
    payload["manifest"] = info.manifest
    spec = payload["spec"]
    if "push_reach" not in spec and "push" not in (info.manifest.get("families") or []):
        # saved before pushes were learnt by their object, and never taught a push:
        # nothing to keep, so it learns pushes the current way
        spec = {**spec, "push_reach": ImageSpec.push_reach}
    return model, ImageSpec.from_dict(spec), payload


def _rebuild_lora(model, payload: dict):
    from peft import LoraConfig

    from agent.policy.strategies.lora import AdapterRouter, wrap

    lora, router = payload["lora"], payload["router"]
    adapters = list(lora["adapters"])
    wrapped = wrap(model, adapters[0], int(lora["r"]), int(lora["alpha"]), router["keys"][:0])
    for name in adapters[1:]:
        wrapped.peft.add_adapter(
            name,
            LoraConfig(
                r=int(lora["r"]),
                lora_alpha=int(lora["alpha"]),
                target_modules=list(lora["targets"]),
                lora_dropout=0.0,
            ),
        )
    return AdapterRouter(wrapped.peft, router["keys"], list(router["owners"]))
