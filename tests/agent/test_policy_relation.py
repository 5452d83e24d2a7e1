"""The place map's relation term (`agent.policy.relation`): a cone or ring around a reference."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from agent.policy.relation import FEATURES, RINGS, SECTORS, RelationMap, offset_bins  # noqa: E402

TEXT = 6


def _feature(dr: float, dc: float) -> int:
    """The feature index of an offset, computed independently of `offset_bins`."""
    r = math.hypot(dr, dc)
    if r < RINGS[0]:
        return 0
    ring = min(sum(r >= e for e in RINGS[1:]), len(RINGS) - 1)
    sector = int((math.atan2(dr, dc) % (2 * math.pi)) // (2 * math.pi / SECTORS)) % SECTORS
    return 1 + ring * SECTORS + sector


def test_offset_bins_index_every_offset_by_ring_and_sector():
    rows, cols = 5, 7
    bins = offset_bins(rows, cols)
    assert bins.shape == (2 * rows - 1, 2 * cols - 1)
    assert int(bins.max()) < FEATURES
    for i in range(2 * rows - 1):
        for j in range(2 * cols - 1):
            assert int(bins[i, j]) == _feature(rows - 1 - i, cols - 1 - j), (i, j)


def _relation_towards(dr: int, dc: int) -> RelationMap:
    """A relation map whose kernel and gate only say "the place is at (dr, dc) from the
    reference" (whatever the phrase), with the plain head silent."""
    rel = RelationMap(TEXT)
    with torch.no_grad():
        rel.kernel.bias.fill_(-20.0)
        rel.kernel.bias[_feature(dr, dc)] = 20.0
        rel.gate.bias.fill_(20.0)
    return rel


@pytest.mark.parametrize("dr,dc", [(0, 4), (0, -4), (3, 0), (-3, 0)])
def test_the_relation_puts_the_place_at_its_offset_from_wherever_the_reference_is(dr, dc):
    rows, cols = 12, 16
    rel = _relation_towards(dr, dc)
    head = torch.zeros(2, 1, rows, cols)
    match = torch.full((2, 1, rows, cols), -30.0)
    refs = [(5, 6), (7, 9)]  # a different reference cell in each sample
    for b, (r, c) in enumerate(refs):
        match[b, 0, r, c] = 30.0
    out = rel(head, match, torch.zeros(2, TEXT))
    for b, (r, c) in enumerate(refs):
        best = int(out[b, 0].flatten().argmax())
        br, bc = divmod(best, cols)
        assert _feature(br - r, bc - c) == _feature(dr, dc)
        assert (br, bc) != (r, c)


def test_a_closed_gate_leaves_the_plain_map_with_its_match():
    rel = RelationMap(TEXT)
    with torch.no_grad():
        rel.gate.bias.fill_(-50.0)
    head, match = torch.randn(1, 1, 6, 8), torch.randn(1, 1, 6, 8)
    out = rel(head, match, torch.zeros(1, TEXT))
    assert torch.allclose(out, head + match, atol=1e-4)


def test_a_config_saved_before_the_relation_map_builds_the_old_network():
    from agent.policy.model import ModelConfig, PoseNet

    cfg = ModelConfig(text_dim=3 * TEXT, film_dim=8, channels=(8, 8, 8), relation_map=True)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    old = ModelConfig.from_dict({k: v for k, v in cfg.to_dict().items() if k != "relation_map"})
    assert not old.relation_map
    assert not any(n.startswith("relation") for n, _ in PoseNet(old).named_parameters())
    with pytest.raises(RuntimeError):
        PoseNet(cfg).load_state_dict(PoseNet(old).state_dict())


def test_an_offset_learnt_around_references_on_one_side_holds_on_the_other():
    """Toy images: a bright cell X, "left of X" / "right of X" 10 cells to that side.
    Trained with X in the left half of the image only, tested with X in the right half:
    the relation is the same cone wherever X stands. (The plain place map, whose head sees
    the pixel coordinates, scored 0.45 on this test; the relation map 0.84.)"""
    from agent.policy.model import HEAT, ModelConfig, PoseNet

    torch.manual_seed(0)
    net = PoseNet(ModelConfig(text_dim=3 * TEXT, film_dim=8, channels=(8, 8, 8), relation_map=True))
    words = torch.randn(2, TEXT)  # the where part of the phrase: "left of", "right of"
    rows, cols, off = 12, 32, 10

    def batch(n: int, right_half: bool):
        side = torch.randint(0, 2, (n,))
        r = torch.randint(1, rows - 1, (n,))
        c = (
            torch.randint(cols // 2, cols - off, (n,))
            if right_half
            else torch.randint(off, cols // 2, (n,))
        )
        x = torch.zeros(n, 8, 4 * rows, 4 * cols)
        for b in range(n):
            x[b, 1, 4 * r[b] : 4 * r[b] + 4, 4 * c[b] : 4 * c[b] + 4] = 1.0
        emb = torch.zeros(n, 3 * TEXT)
        emb[:, 2 * TEXT :] = words[side]
        return x, emb, r * cols + c + torch.where(side == 0, -off, off)

    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(150):
        x, emb, place = batch(16, right_half=False)
        out = net(x, emb, torch.zeros(16, dtype=torch.long), place)
        loss = torch.nn.functional.cross_entropy(out.place[:, HEAT].flatten(1), place)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, emb, place = batch(64, right_half=True)
    with torch.no_grad():
        out = net(x, emb, torch.zeros(64, dtype=torch.long), place)
    hit = (out.place[:, HEAT].flatten(1).argmax(1) == place).float().mean()
    assert hit > 0.7
