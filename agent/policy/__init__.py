"""The learned pose policy: RGB-D image + instruction -> pick and place end-effector poses.

Modules, each doing one thing:

- `geometry`: the image the policy sees (top camera, crop) and the pixel <-> 3D mapping
  through `sim.camera`; rotation bins matched to the objects' 90-degree symmetry.
- `data`: scripted-oracle demonstrations (one rendered scene per seed, no episode
  execution), cached as .npz in the data home.
- `embed`: MiniLM sentence embeddings of instructions, computed once and cached.
- `model`: `PoseNet`, a small FiLM-conditioned affordance FCN (Transporter/CLIPort style).
- `train`: the losses and the one fine-tuning loop with strategy plugins.
- `policy`: `Policy`, decoding heatmaps into (x, y, z, yaw) poses.
- `checkpoint`: versioned, hash-checked checkpoints in the data home.
- `provider`: `PolicyPoseProvider` for the robot API (skills.poses.PoseProvider).
- `evaluate`: pose errors, the pose-tolerance proxy and sim-executed success.
- `corrections`, `feedback`: the SQLite correction store and the SC-MLLM style loop.
- `strategies`: continual-learning plugins; `metrics`: accuracy-matrix metrics;
  `stream`, `bench`: the continual-learning benchmark.

Nothing heavy (torch, pybullet) is imported when this package is imported.

Status (issue 5, in progress): every module above now exists, written this session and
committed untested; the CLI (`policy train|eval|correct`), `bench continual`, the wiring
of `run --perception policy` into the sandbox, tests and measurements are still to do.
"""
