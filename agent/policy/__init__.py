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
- `corrections`, `feedback`: the SQLite correction store and the SC-MLLM style loop
  (simulated expert); `human`, `draw`, `queue`: a person's corrections (CLI and web UI);
  `session`, `finetune`: correction rounds on a saved checkpoint.
- `strategies`: continual-learning plugins; `metrics`: accuracy-matrix metrics;
  `stream`: a task stream trained through with one strategy (`bench/continual*.py` runs
  the benchmark).
- `settings`: `Optim` (learning rate, batch size, clip, seed, threads), shared by every
  training config and read from the `[policy]` settings; `commands`: what `policy eval`
  and `policy corrections` do.

Nothing heavy (torch, pybullet) is imported when this package is imported.

Entry points: `skillgrove policy ...` (agent/cli/policy_cmd.py), `skillgrove bench
continual` (`bench.continual.run_continual_bench`), `skillgrove run --perception policy`
(the sandbox worker builds a `PolicyPoseProvider` before its lockdown, see
`provider.sandbox_provider`), and the web UI's Corrections page (`queue`).
"""
