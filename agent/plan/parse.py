"""Offline instruction understanding: what kind of task, which objects in which roles.

This is the rule-based half of the offline default planner (no LLM configured). It reads
only the instruction text and the scene's object descriptions, never a family's
template or params. It is robust to the usual paraphrases: synonyms ("block" for
"cube", "dish" for "plate"), articles, word order ("onto the plate, put the red
cube"), passive role words ("with the red cube at the bottom").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.errors import AgentError
from skills.naming import COLOR_WORDS, SHAPE_PHRASES, SMALL_WORDS, match


@dataclass(frozen=True)
class Mention:
    """An object named in the text: its words, where it starts, and what it refers to."""

    text: str
    start: int
    color: str | None
    shape: str | None


@dataclass(frozen=True)
class Intent:
    """What the instruction asks: a task kind and the scene objects in their roles.

    Attributes:
        kind: the task kind (one of the family ids, the planner's vocabulary).
        roles: role name -> object description as it appears in the scene.
        values: other arguments (e.g. {"angle": "45"} or {"color": "red"}).
        query: the instruction with objects replaced by role placeholders (for search).
    """

    kind: str
    roles: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    query: str = ""

    @property
    def args(self) -> dict[str, str]:
        """Keyword arguments for a skill: roles and values together."""
        return {**self.roles, **self.values}


def normalize(text: str) -> str:
    text = text.lower().replace("°", " degrees ")
    text = re.sub(r"[^a-z0-9\- ]+", " ", text)
    return " " + re.sub(r"\s+", " ", text).strip() + " "


def mentions(text: str) -> list[Mention]:
    """Object mentions in order: '<color>? <size>? <shape>' or a color alone."""
    words = text.split()
    out: list[Mention] = []
    i = 0
    shape_words = sorted(SHAPE_PHRASES, key=lambda p: -len(p[0].split()))
    while i < len(words):
        color, size, j = None, False, i
        while j < len(words) and (words[j] in COLOR_WORDS or words[j] in SMALL_WORDS):
            color = COLOR_WORDS.get(words[j], color)
            size = size or words[j] in SMALL_WORDS
            j += 1
        shape, k = None, j
        for phrase, canon in shape_words:
            n = len(phrase.split())
            cand = " ".join(
                re.sub(r"(e?s)$", "", w) if idx == n - 1 else w
                for idx, w in enumerate(words[j : j + n])
            )
            if cand == phrase or " ".join(words[j : j + n]) == phrase:
                shape, k = canon, j + n
                break
        if shape == "cube" and size:
            shape = "small cube"
        if color or shape:
            out.append(Mention(" ".join(words[i:k]), i, color, shape))
            i = max(k, i + 1)
        else:
            i += 1
    return out


def _has(text: str, *phrases: str) -> bool:
    return any(f" {p} " in text for p in phrases)


def detect_kind(text: str, ms: list[Mention]) -> str:
    """The task kind from keywords and the shapes of the mentioned objects."""
    shapes = [m.shape for m in ms]
    if _has(text, "sort") or (
        _has(
            text,
            "same color",
            "same colour",
            "matching color",
            "matching bowl",
            "own color",
            "by color",
        )
        and "bowl" in text
    ):
        return "sort"
    if _has(text, "pyramid", "triangle"):
        return "pyramid"
    if _has(text, "tower"):
        return "tower"
    if _has(
        text, "line up", "in a row", "left to right", "right to left", "a line", "arrange", "order"
    ):
        return "line-up"
    if _has(text, "swap", "exchange", "switch", "trade places", "trade", "interchange"):
        return "swap"
    if _has(
        text,
        "clear",
        "empty",
        "everything off",
        "everything from",
        "all objects off",
        "all objects from",
        "remove all",
        "remove everything",
        "take everything",
        "take all",
        "unload",
    ):
        return "clear"
    if _has(text, "all", "every", "each", "gather", "collect") and any(
        m.shape is None and m.color for m in ms
    ):
        return "gather"
    if _has(text, "rotate", "turn", "spin", "twist") and re.search(r"-?\d+", text):
        return "rotate"
    if "outline" in shapes or _has(text, "align"):
        return "align"
    if "zone" in shapes or _has(text, "push", "slide", "shove", "nudge"):
        return "push"
    if "bowl" in shapes:
        return "put-in-bowl"
    if any(s in ("tray", "plate", "pad") for s in shapes):
        return "place"
    if sum(s in ("cube", "small cube", "cylinder") for s in shapes) >= 2:
        return "stack"
    if ms:
        return "pick"
    raise AgentError("could not tell what to do: the instruction names no object")


def _split_target(text: str, ms: list[Mention]) -> tuple[Mention, Mention]:
    """(moved object, target) of a two-object instruction, from the prepositions."""
    words = text.split()
    for m in ms:
        before = " ".join(words[max(0, m.start - 3) : m.start])
        if re.search(
            r"\b(on top of|onto|on to|into|in to|inside|in|on|to|toward|towards|with|over|of)( the| a| an)?$",
            before,
        ):
            others = [o for o in ms if o is not m]
            if others:
                return others[0], m
    return ms[0], ms[1]


def _role_order(
    text: str, ms: list[Mention], roles: dict[str, tuple[str, ...]], default: list[str]
) -> dict[str, Mention]:
    """Assign mentions to roles by the role words that follow or precede each mention."""
    words = text.split()
    assigned: dict[str, Mention] = {}
    for m in ms:
        window = " ".join(words[m.start : m.start + len(m.text.split()) + 4])
        back = " ".join(words[max(0, m.start - 4) : m.start])
        for role, keys in roles.items():
            if role in assigned:
                continue
            after_hit = any(re.search(rf"\b{k}\b", window) for k in keys)
            if after_hit or any(back.endswith(k) for k in keys):
                assigned[role] = m
                break
    rest = [m for m in ms if m not in assigned.values()]
    for role in default:
        if role not in assigned and rest:
            assigned[role] = rest.pop(0)
    return assigned


def parse(instruction: str, scene: list[str]) -> Intent:
    """Understand an instruction against the scene's object descriptions.

    Args:
        instruction: what a person asked, in plain words.
        scene: descriptions of the objects on the table ("red cube", ...).

    Raises:
        AgentError: empty instruction, nothing recognizable, or objects not in the scene.
    """
    if not instruction or not instruction.strip():
        raise AgentError("the instruction is empty")
    text = normalize(instruction)
    ms = mentions(text)
    kind = detect_kind(text, ms)
    colors_only = [m for m in ms if m.shape is None]
    # A color alone ("the red one") still names an object, except where a color is the argument.
    objs = [m for m in ms if m.shape is not None] if kind == "gather" else ms
    values: dict[str, str] = {}
    if kind == "sort":
        return _bind(kind, {}, values, scene, text)
    if kind == "gather":
        target = next((m for m in objs if m.shape in ("tray", "plate", "pad", "bowl")), None)
        if not colors_only or target is None:
            raise AgentError(
                "gather needs a color and a target, e.g. 'put all the red objects on the tray'"
            )
        values["color"] = colors_only[0].color or ""
        return _bind(kind, {"target": target}, values, scene, text)
    if kind == "clear":
        target = next((m for m in objs if m.shape in ("tray", "plate", "pad", "bowl")), None)
        if target is None:
            raise AgentError("clear needs a target such as 'the blue tray'")
        return _bind(kind, {"target": target}, values, scene, text)
    if kind == "tower":
        roles = {
            "bottom": ("at the bottom", "on the bottom", "bottom", "base", "first", "lowest"),
            "top": ("on top", "at the top", "top", "last", "finally", "highest"),
            "middle": ("in the middle", "middle", "then", "second", "next"),
        }
        order = ["bottom", "middle", "top"]
        if _has(text, "bottom to top", "bottom up", "top to bottom", "top down"):
            seq = objs[:3] if _has(text, "bottom to top", "bottom up") else objs[:3][::-1]
            return _bind(kind, dict(zip(order, seq, strict=False)), values, scene, text, need=3)
        if re.search(r" on (top of )?the .* on (top of )?the ", text) and not _has(
            text, "bottom", "middle"
        ):
            order = ["top", "middle", "bottom"]  # "stack A on B on C"
        return _bind(kind, _role_order(text, objs, roles, order), values, scene, text, need=3)
    if kind == "pyramid":
        roles = {
            "left": ("left",),
            "right": ("right",),
            "top": ("on top", "top", "apex", "peak", "above"),
        }
        return _bind(
            kind,
            _role_order(text, objs, roles, ["left", "right", "top"]),
            values,
            scene,
            text,
            need=3,
        )
    if kind == "line-up":
        seq = objs[:3]
        if _has(text, "right to left"):
            seq = seq[::-1]
        return _bind(
            kind,
            dict(zip(("first", "second", "third"), seq, strict=False)),
            values,
            scene,
            text,
            need=3,
        )
    if kind == "swap":
        return _bind(
            kind, dict(zip(("a", "b"), objs[:2], strict=False)), values, scene, text, need=2
        )
    if kind == "rotate":
        nums = re.findall(r"-?\d+(?:\.\d+)?", text)
        angle = float(nums[0])
        if _has(text, "clockwise") and not _has(
            text, "counter-clockwise", "counterclockwise", "anticlockwise", "anti-clockwise"
        ):
            angle = -angle
        values["angle"] = f"{angle:g}"
        return _bind(kind, {"obj": objs[0]} if objs else {}, values, scene, text, need=1)
    if kind == "pick":
        return _bind(kind, {"obj": objs[0]} if objs else {}, values, scene, text, need=1)
    if len(objs) < 2:
        raise AgentError(
            f"'{' '.join(instruction.split())}' needs two objects (what to move and where)"
        )
    moved, target = _split_target(text, objs)
    names = {
        "place": ("obj", "target"),
        "stack": ("top", "base"),
        "put-in-bowl": ("obj", "bowl"),
        "push": ("obj", "zone"),
        "align": ("obj", "target"),
    }[kind]
    return _bind(kind, {names[0]: moved, names[1]: target}, values, scene, text, need=2)


def _bind(
    kind: str, roles: dict, values: dict[str, str], scene: list[str], text: str, need: int = 0
) -> Intent:
    """Resolve each role's mention to exactly one scene object."""
    if len(roles) < need:
        raise AgentError(
            f"the instruction names {len(roles)} object(s); a {kind} task needs {need}"
        )
    pairs = [(d.split(" ", 1)[0], d.split(" ", 1)[1]) for d in scene]
    bound: dict[str, str] = {}
    for role, m in roles.items():
        hits = match(m.text, pairs)
        if not hits:
            raise AgentError(f"there is no {m.text} in the scene (it has: {', '.join(scene)})")
        if len(hits) > 1:
            raise AgentError(f"'{m.text}' could mean {' or '.join(scene[i] for i in hits)}")
        bound[role] = scene[hits[0]]
    if len(set(bound.values())) < len(bound):
        raise AgentError("the instruction names the same object twice")
    query = text.strip()
    for role, m in roles.items():
        query = query.replace(m.text, "{" + role + "}", 1)
    return Intent(kind, bound, values, query)
