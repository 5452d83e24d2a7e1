"""SE(2) augmentation checked against the simulator: augmenting the view of a scene must
give (nearly) the view and the labels of the same scene really turned and shifted."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from agent.policy.augment import Augment  # noqa: E402
from agent.policy.data import Samples, acted_object  # noqa: E402
from agent.policy.geometry import ROT_PERIOD, ImageSpec, cell_to_pixel, observe  # noqa: E402
from agent.policy.prepare import prepare  # noqa: E402
from tests.agent.policy_helpers import tiny_encoder  # noqa: E402

SPEC = ImageSpec()


def _sample(world, task, family: str, seed: int) -> Samples:
    rgb, depth = observe(world, SPEC)
    a = task.oracle()
    held = acted_object(world, a.pose0)
    place = a.pose1 if a.primitive != "pick" else None
    return Samples.single(
        rgb, depth, task.instruction, family, seed, a.primitive, a.pose0, place, held.shape.symmetry
    )


def _turn_scene(world, pivot, theta: float, shift) -> None:
    """Turn every object by `theta` about the vertical axis through `pivot`, then shift it."""
    c, s = math.cos(theta), math.sin(theta)
    cl = world.client
    for o in world.objects:
        pos, orn = cl.getBasePositionAndOrientation(o.body)
        dx, dy = pos[0] - pivot[0], pos[1] - pivot[1]
        new = (pivot[0] + c * dx - s * dy + shift[0], pivot[1] + s * dx + c * dy + shift[1], pos[2])
        turn = cl.getQuaternionFromEuler((0.0, 0.0, theta))
        cl.resetBasePositionAndOrientation(
            o.body, new, cl.multiplyTransforms((0, 0, 0), turn, (0, 0, 0), orn)[1]
        )


@pytest.fixture(scope="module")
def world():
    from sim.world import World

    w = World(image_size=(SPEC.render, SPEC.render))
    yield w
    w.close()


def _pixels(batch, i: int):
    pick = cell_to_pixel(SPEC, int(batch.pick_cell[i]), batch.pick_off[i].tolist())
    place = cell_to_pixel(SPEC, int(batch.place_cell[i]), batch.place_off[i].tolist())
    return np.array(pick), np.array(place)


@pytest.mark.parametrize(
    "family,seed,theta,shift_px",
    [("stack", 3, 0.7, (6.0, -4.0)), ("place", 5, -2.0, (0.0, 0.0)), ("push", 2, 2.6, (-5.0, 3.0))],
)
def test_augmented_view_matches_the_turned_scene(world, one_thread, family, seed, theta, shift_px):
    from sim.runner import reset_task

    aug = Augment(SPEC)
    a, center = aug.camera_map()
    enc = tiny_encoder()
    task = reset_task(world, family, seed)
    before = prepare(_sample(world, task, family, seed), SPEC, enc).batch([0])
    cam = SPEC.cam()
    pivot = cam.pixel_to_table(center[0] + SPEC.crop[2], center[1] + SPEC.crop[0], 0.0)
    shift_world = np.linalg.solve(a, np.asarray(shift_px))  # pixels -> table meters
    _turn_scene(world, pivot, theta, shift_world)
    world.settle(max_steps=30)
    after = prepare(_sample(world, task, family, seed), SPEC, enc).batch([0])

    th = torch.tensor([theta], dtype=torch.float64)
    got = aug.apply(
        before, th, aug.pixel_rotations(th), torch.tensor([shift_px], dtype=torch.float64)
    )
    # key points land where the turned scene's oracle puts them (perspective: ~1 px)
    for g, w in zip(_pixels(got, 0), _pixels(after, 0), strict=True):
        assert np.abs(g - w).max() < 1.6, (g, w)
    assert not np.allclose(_pixels(got, 0)[0], _pixels(before, 0)[0], atol=2.0)
    # the grasp yaw turned with the scene, the turn between grasp and place did not
    if float(after.rot_w[0]) > 0:
        d = (float(got.pick_rot[0]) - float(after.pick_rot[0])) % ROT_PERIOD
        assert min(d, ROT_PERIOD - d) < math.radians(3)
        d = (float(got.place_rot[0]) - float(after.place_rot[0])) % ROT_PERIOD
        assert min(d, ROT_PERIOD - d) < math.radians(3)

    # the image: colours and heights agree with the real render but for object edges
    # (aliasing) and shading (the light does not turn with the scene)
    def differ(u, v, channels):
        return float(((u.x[0, channels] - v.x[0, channels]).abs().amax(0) > 0.1).float().mean())

    assert differ(got, after, slice(0, 3)) < 0.08 and differ(got, after, slice(3, 4)) < 0.05
    # and an untransformed view would not have agreed
    assert differ(before, after, slice(0, 3)) > 2 * differ(got, after, slice(0, 3))


def test_rows_whose_key_points_would_leave_the_image_stay_as_they_are(world, one_thread):
    from sim.runner import reset_task

    aug = Augment(SPEC)
    task = reset_task(world, "place", 1)
    b = prepare(_sample(world, task, "place", 1), SPEC, tiny_encoder()).batch([0, 0])
    th = torch.tensor([0.0, 0.0], dtype=torch.float64)
    far = torch.tensor([[500.0, 0.0], [3.0, 2.0]], dtype=torch.float64)
    got = aug.apply(b, th, aug.pixel_rotations(th), far)
    assert torch.equal(got.x[0], b.x[0]) and int(got.pick_cell[0]) == int(b.pick_cell[0])
    assert not torch.equal(got.x[1], b.x[1])


def test_random_draws_are_seeded_and_bounded():
    aug = Augment(SPEC, max_rot=0.5, max_shift=4.0, prob=1.0)
    t1, _, s1 = aug.draw(200, torch.Generator().manual_seed(3))
    t2, _, s2 = aug.draw(200, torch.Generator().manual_seed(3))
    assert torch.equal(t1, t2) and torch.equal(s1, s2)
    assert (
        float(t1.abs().max()) <= 0.5 and float(s1.abs().max()) <= 4.0 and float(t1.abs().min()) > 0
    )
    none = Augment(SPEC, prob=0.0).draw(50, torch.Generator().manual_seed(0))
    assert float(none[0].abs().max()) == 0 and float(none[2].abs().max()) == 0
    with pytest.raises(ValueError):
        Augment(SPEC, prob=1.5)


def test_rows_whose_label_depends_on_the_world_frame_are_not_turned(world, one_thread):
    """A table turned under "left of the bowl" would put the answer on another side; a
    shifted one would move "the left side". Such rows keep what their label allows."""
    from dataclasses import replace

    from sim.runner import reset_task

    task = reset_task(world, "place", 1)
    sample = _sample(world, task, "place", 1)
    rows = [replace(sample, family=np.array([f])) for f in ("stack", "left_of", "left_side")]
    prepared = [prepare(r, SPEC, tiny_encoder()) for r in rows]
    assert [int(p.frame[0]) for p in prepared] == [0, 1, 2]
    b = type(prepared[0]).cat(prepared).batch([0, 1, 2])
    aug = Augment(SPEC, max_rot=math.pi, max_shift=12.0, prob=1.0)
    turned = shifted = 0
    for k in range(20):
        got = aug(b, torch.Generator().manual_seed(k))
        moved = [not torch.equal(got.x[i], b.x[i]) for i in range(3)]
        turned += not np.isclose(float(got.pick_rot[0]), float(b.pick_rot[0]))
        assert np.isclose(float(got.pick_rot[1]), float(b.pick_rot[1]))  # never turned
        shifted += moved[1]
        assert not moved[2]  # neither turned nor shifted
    assert turned > 10 and shifted > 10  # the others are still augmented
