"""Competence per goal template, and what to practise next (learning progress).

A template's history is its episodes' outcomes in order (True: the simulator's verdict
said the goal held) and the proposals dropped before running. From it:

- `recent` and `older`: success rates over the last `WINDOW` episodes and the `WINDOW`
  before (with fewer than 2 * WINDOW episodes, two halves of what there is);
- learning progress `|recent - older|` (Oudeyer et al.'s absolute learning progress;
  Voyager's curriculum likewise goes where the agent is getting better or worse);
- a state: `new` (never tried), `mastered` (at least WINDOW episodes, recent rate >=
  MASTERED), `hopeless` (at least 2 * WINDOW episodes, none of them a success: left for
  later), `out of reach` (below), else `learning`.

Out of reach, with the reason: `unreachable` (its last `UNREACHABLE` proposals were all
dropped: the planner found no placement or the scene could not be built), `no skill`
(its last 2 * WINDOW episodes found no skill that passed the Evaluator), `unstable` (it
has succeeded, yet its last 2 * WINDOW episodes succeed less than `UNSTABLE` of the time:
the same goal holds on some scenes and not on others).

`choose` spends an episode on: a never-tried template with probability `EXPLORE`; else
the template of highest learning progress among those neither mastered nor left for
later (never tried, or too few episodes to tell, count as progress 1: optimism in the
face of the unknown; ties: fewer episodes, then at random); when every template tried
is mastered or hopeless, the one tried longest ago (the library may have grown since).
An out-of-reach template is never chosen while the library is as it was at its last
episode; once the library has grown since, a `no skill` or `unstable` one joins the
revisits (a new skill may be what it lacked; `unreachable` is the planner's or the
scene's, which skills do not change). Each choice says why, with its numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WINDOW = 4
MASTERED = 0.9
EXPLORE = 0.2
UNREACHABLE = 5
UNSTABLE = 0.25


@dataclass(frozen=True)
class History:
    """What happened to one template: outcomes in order and what was dropped."""

    template: str
    outcomes: tuple[bool, ...] = ()
    statuses: tuple[str, ...] = ()  # each episode's run status ("ok", "no-skill", ...)
    trailing_drops: int = 0  # proposals dropped since its last episode
    drop_reason: str = ""  # the last drop's reason
    last_tried: int = -1  # index of its last episode (-1: never)
    library_at_last: int | None = None  # the library's size after its last episode


@dataclass(frozen=True)
class Competence:
    """A template's competence now (see the module docstring)."""

    template: str
    attempts: int
    successes: int
    recent: float | None
    older: float | None
    progress: float | None
    state: str  # new | learning | mastered | hopeless | out of reach
    reason: str

    def to_dict(self) -> dict:
        return {
            "template": self.template,
            "attempts": self.attempts,
            "successes": self.successes,
            "recent": _r(self.recent),
            "older": _r(self.older),
            "progress": _r(self.progress),
            "state": self.state,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Choice:
    """The template chosen for an episode, by which rule, and why."""

    template: str
    rule: str  # never tried | learning progress | revisit
    reason: str


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def windows(outcomes: Sequence[bool]) -> tuple[float | None, float | None]:
    """(recent, older) success rates (see the module docstring); None where empty."""
    n = len(outcomes)
    if n == 0:
        return None, None
    w = min(WINDOW, n // 2) if n >= 2 else n
    recent = outcomes[-w:]
    older = outcomes[-2 * w : -w] if n >= 2 else ()
    return sum(recent) / len(recent), (sum(older) / len(older) if older else None)


def out_of_reach(h: History) -> str | None:
    """Why the template is out of reach, or None (see the module docstring)."""
    if h.trailing_drops >= UNREACHABLE:
        return f"unreachable: its last {h.trailing_drops} goals were dropped ({h.drop_reason})"
    last = h.outcomes[-2 * WINDOW :]
    if len(last) < 2 * WINDOW:
        return None
    if all(s == "no-skill" for s in h.statuses[-2 * WINDOW :]):
        return f"no skill: no skill passed the Evaluator in its last {len(last)} episodes"
    if any(h.outcomes) and sum(last) / len(last) < UNSTABLE:
        return (
            f"unstable: {sum(h.outcomes)} of {len(h.outcomes)} episodes held, only "
            f"{sum(last)} of the last {len(last)}"
        )
    return None


def competence(h: History) -> Competence:
    """A template's competence from its history."""
    recent, older = windows(h.outcomes)
    progress = None if recent is None or older is None else abs(recent - older)
    n, ok = len(h.outcomes), sum(h.outcomes)
    far = out_of_reach(h)
    if far is not None:
        state, reason = "out of reach", far
    elif n == 0:
        state, reason = "new", "never tried"
    elif n >= WINDOW and recent >= MASTERED:
        state, reason = "mastered", f"recent success {recent:.0%}, {ok} of {n} held"
    elif n >= 2 * WINDOW and ok == 0:
        state, reason = "hopeless", f"left for later: 0 of {n} episodes held"
    else:
        state = "learning"
        reason = f"{ok} of {n} held" + (
            "" if progress is None else f", progress {progress:.2f} ({older:.0%} -> {recent:.0%})"
        )
    return Competence(h.template, n, ok, recent, older, progress, state, reason)


def retry(h: History, c: Competence, library_size: int | None) -> bool:
    """Whether an out-of-reach template may be revisited: the library has grown since its
    last episode and the reason is one a skill can change (see the module docstring)."""
    return (
        c.state == "out of reach"
        and h.trailing_drops < UNREACHABLE  # `out_of_reach`'s first reason: not a skill's
        and library_size is not None
        and h.library_at_last is not None
        and library_size > h.library_at_last
    )


def choose(
    histories: Sequence[History],
    rng: np.random.Generator,
    explore: float = EXPLORE,
    library_size: int | None = None,
) -> Choice | None:
    """The template to practise next (see the module docstring); None when every template
    is out of reach (and the library has not grown since, `retry`)."""
    comps = {h.template: competence(h) for h in histories}
    last = {h.template: h.last_tried for h in histories}
    new = [t for t, c in comps.items() if c.state == "new"]
    if new and rng.random() < explore:
        t = new[int(rng.integers(len(new)))]
        return Choice(
            t, "never tried", f"exploring ({explore:.0%}): one of {len(new)} untried templates"
        )
    open_ = [c for c in comps.values() if c.state in ("new", "learning")]
    if open_:

        def score(c: Competence) -> float:
            return 1.0 if c.progress is None else c.progress  # untried or too few: optimistic

        best = max(score(c) for c in open_)
        top = [c for c in open_ if score(c) == best]
        fewest = min(c.attempts for c in top)
        top = [c for c in top if c.attempts == fewest]
        c = top[int(rng.integers(len(top)))]
        if c.state == "new":
            return Choice(
                c.template,
                "never tried",
                f"never tried (progress unknown, counted as {best:.2f}): one of {len(new)} "
                "untried templates",
            )
        detail = (
            f"too few episodes to tell ({c.attempts}), counted as 1.00"
            if c.progress is None
            else f"{c.older:.0%} -> {c.recent:.0%} over the last episodes"
        )
        return Choice(
            c.template,
            "learning progress",
            f"highest learning progress {best:.2f} of {len(open_)} templates neither mastered "
            f"nor left for later: {detail}",
        )
    rest = [c for c in comps.values() if c.state in ("mastered", "hopeless")]
    grown = {  # template -> the library's size at its last episode
        h.template: h.library_at_last
        for h in histories
        if retry(h, comps[h.template], library_size)
    }
    rest += [comps[t] for t in sorted(grown)]
    if not rest:
        return None
    c = min(rest, key=lambda c: (last.get(c.template, -1), c.template))
    why = (
        f"the library grew from {grown[c.template]} to {library_size} skills since it was "
        f"out of reach ({c.reason})"
        if c.template in grown
        else f"{c.state}, {c.successes} of {c.attempts} held"
    )
    return Choice(
        c.template,
        "revisit",
        "every template tried is mastered, left for later or out of reach: revisiting "
        f"the one tried longest ago ({why})",
    )
