"""Noun phrases: one object ("the small red block"), a set ("every cube except the green
one"), the table, a pronoun, or a container picked by color ("the bowl of the same color").

An object's canonical description is "<color> <shape>" with the shape as the scene
names it ("blue small cube"), the shape alone when the text gave no color ("cube"), or
"<color> object" for a color with no noun to borrow ("the red one" with nothing before).
"One"/"ones" and a bare color borrow the noun of the list they stand in ("the red and the
blue cube") or of the last noun read ("the red cube on the blue one").

A set's words are what `sim.goals.sets` reads: colors, a size, a plural noun ("cubes",
"objects"), "both", and "except <description>, ..." ("blocks" are cubes, as in
`skills.naming`; "objects", "things", "items" are every movable object).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.understand.lexicon import (
    ANAPHOR,
    DETERMINERS,
    EVERYTHING,
    EXCEPT,
    GENERIC,
    LARGE_WORDS,
    MOVABLE,
    QUANTIFIERS,
    TABLE,
    color_of,
    is_color,
    is_small,
    noun_at,
    shown,
    singular,
)

SAME_PRE = (
    "matching",
    "corresponding",
    "same color",
    "same colored",
    "own color",
    "own",
    "like colored",
    "respective",
)
SAME_POST = (
    "of the same color",
    "with the same color",
    "in the same color",
    "of its color",
    "of its own color",
    "of their color",
    "of their own color",
    "of matching color",
    "that matches its color",
    "that match their color",
    "that matches their color",
    "matching its color",
    "matching their color",
    "whose color matches",
    "that has the same color",
    "that have the same color",
    "of the same color as it",
    "of the same color as them",
    "with matching color",
    "with its color",
)


@dataclass(frozen=True)
class Obj:
    """One object the text names. `shape` is None for "<color> object"; "table" for the table."""

    desc: str
    shape: str | None
    color: str | None
    bare: bool = field(default=False, compare=False)  # a color alone: its noun comes later

    @property
    def movable(self) -> bool:
        return self.shape in MOVABLE or self.shape is None


@dataclass(frozen=True)
class Group:
    """A set of objects picked out by words (see `sim.goals.sets`)."""

    words: str
    shape: str | None  # the noun's shape; None: any movable object
    needs: tuple[str, ...]  # object specs a scene needs for the set to pick out enough
    colors: tuple[str, ...] = ()

    def excluding(self, words: str, need: bool = True) -> Group:
        sep = ", " if " except " in self.words else " except "
        more = (words,) if need else ()
        return Group(self.words + sep + words, self.shape, self.needs + more, self.colors)

    def named(self) -> list[Obj] | None:
        """'the red and blue cubes' as the objects it names one by one (else None)."""
        if len(self.colors) < 2 or not self.shape or " except " in self.words:
            return None
        return [Obj(describe(c, self.shape), self.shape, c) for c in self.colors]


@dataclass(frozen=True)
class SameColor:
    """'the bowl of the same color': the `shape` of the subject's color, found at bind time."""

    shape: str

    @property
    def desc(self) -> str:
        return self.shape + SAME


SAME = " of the same color"  # SameColor's words after the shape: "bowl of the same color"
TABLE_OBJ = Obj("table", "table", None)
Ref = Obj | Group | SameColor


def describe(color: str | None, shape: str | None) -> str:
    return " ".join(w for w in (color, shape or ("object" if color else None)) if w)


def plural(shape: str | None) -> str:
    if shape is None:
        return "objects"
    return shape + "s"


def set_needs(colors: list[str], shape: str | None, both: bool) -> tuple[str, ...]:
    """Objects a scene must hold for the set to pick out several (two for 'both')."""
    n = 2 if both else 3
    kinds = {None: ["cube", "cylinder", "small cube"], "cube": ["cube", "small cube"]}.get(
        shape, [shape]
    )
    if not colors:
        return (kinds[0],) * n
    if len(colors) > 1:
        return tuple(f"{c} {kinds[0]}" for c in colors)
    return tuple(f"{colors[0]} {k}" for k in kinds)[:n]


class Nouns:
    """Noun-phrase rules of the reader (mixed into `reader.Parser`)."""

    group_shape: tuple[str | None] | None = None  # while reading "except ...": the set's noun
    landmark = None  # the target of the last place that is not a support ("left of the bowl")

    def antecedent(self, role: str, start: int) -> str | None:
        """The noun 'one' or a bare color stands for: in an exception, the set's; as a
        subject, the previous clause's subject's; else the nearest noun before `start`."""
        if self.group_shape is not None:
            return self.group_shape[0]
        if role == "subject" and self.prev_subjects:
            shape = getattr(self.prev_subjects[0], "shape", None)
            if shape and shape != "table":
                return shape
        for j in range(start - 1, -1, -1):
            found = noun_at(self.t, j)
            if found and found[1] <= start:
                return found[0]
        return None

    def np_list(self, role: str = "subject") -> list[Ref] | None:
        """One or more noun phrases: 'A, B and C', 'A as well as B', 'them'."""
        start = self.i
        them = ("both of them", "all of them", "them", "they", "those", "these")
        if role == "subject" and self.prev_subjects and self.eat_any(them):
            return list(self.prev_subjects)
        self._list_role, self._list_start = role, start
        first = self.np(role, bare_ok=True)
        if first is None:
            return None
        items = [first]
        seps = (",", "and", ", and", "as well as", "plus", "nor") + (
            ("or", ", or") if role == "except" else ()
        )
        while True:
            back = self.i
            if not self.eat_any(seps) or self.peek() in ("then", ",", ";"):
                self.i = back
                break
            nxt = self.np(role, bare_ok=True)
            if nxt is None:
                self.i = back
                break
            items.append(nxt)
        items = self._borrow(items)
        self.note(start, shown(self.t[start : self.i]))
        return items

    def _borrow(self, items: list[Ref]) -> list[Ref]:
        """A bare color ('the red and the blue cube') takes the next noun of its list."""
        out = list(items)
        for k, it in enumerate(out):
            if isinstance(it, Obj) and it.bare:
                later = [o.shape for o in out[k + 1 :] if isinstance(o, Obj | Group) and o.shape]
                shape = later[0] if later else self.antecedent(self._list_role, self._list_start)
                out[k] = self._obj(it.color, shape, self._list_start)
        return out

    def one_by_one(self, refs: list[Ref]) -> list[Ref]:
        """Sets that name their objects ('the red and blue cubes') as those objects."""
        return [o for r in refs for o in ((r.named() or [r]) if isinstance(r, Group) else [r])]

    def _obj(self, color: str | None, shape: str | None, pos: int) -> Obj:
        obj = Obj(describe(color, shape), shape, color)
        self.recent.append((pos, obj))
        return obj

    def np(self, role: str = "subject", bare_ok: bool = False) -> Ref | None:
        """One noun phrase, or None (the cursor unmoved, the wish recorded)."""
        start = self.i
        if role != "subject" and self.eat("itself"):
            if self.subject_now is None:
                self.i = start
                return self.expect("an object")
            return self.subject_now
        if self.at("it") or self.at("each other"):
            return self._pronoun(role, start)
        if self.eat_any(EVERYTHING):
            return self._except(Group("objects", None, set_needs([], None, False)), start)
        quant = self.eat_any(QUANTIFIERS)
        det = self.eat_any(DETERMINERS + (("its", "their") if role == "target" else ()))
        if role == "target" and self.eat_any(SAME_PRE):
            found = noun_at(self.t, self.i)
            if found:
                self.i = found[1]
                return SameColor(found[0])
            self.i = start
            return self.expect("a container such as 'bowl'")
        colors, size = self._modifiers()
        shape, plural_, generic, anaphor = None, False, False, False
        found = noun_at(self.t, self.i)
        w = self.peek()
        if found:
            shape, self.i, plural_ = found
        elif w in GENERIC or singular(w) in GENERIC:
            generic, plural_ = True, w not in GENERIC
            self.i += 1
        elif w in ANAPHOR:
            anaphor, plural_ = True, w == "ones"
            self.i += 1
        elif w in TABLE and not colors and not size and not quant:
            self.i += 1
            return TABLE_OBJ
        elif not colors and not size:
            self.expect("an object (a cube, cylinder, bowl, tray, plate, pad, zone or outline)")
            self.i = start
            return None
        if shape == "cube" and size == "small":
            shape = "small cube"
        bare = not found and not generic and not anaphor
        if anaphor or (bare and not (bare_ok and colors)):  # "the red one", "the small ones"
            shape = self.antecedent(role, start)
            if shape in ("cube", "small cube") and size:
                shape = "small cube" if size == "small" else "cube"
            if shape is None and not colors:
                self.i = start
                return self.expect("an object ('one' names no object here)")
        if role == "target" and not quant and self.eat_any(SAME_POST):
            return SameColor(shape or "bowl")
        is_set = quant is not None or plural_ or (len(colors) > 1)
        if is_set:
            if "any" in (quant, det) or det == "some":  # "some cubes": how many?
                self.i = start
                return self.expect(f"which objects (not '{quant or det}')")
            both = quant is not None and quant.split()[0] in ("both", "the")
            kind_shape = shape if (found or anaphor) else None
            words = " ".join(
                (["both"] if both else [])
                + ([" and ".join(colors)] if colors else [])
                + (["small"] if size == "small" and kind_shape in ("cube", "small cube") else [])
                + (["large"] if size == "large" and kind_shape == "cube" else [])
                + [plural(kind_shape if kind_shape != "small cube" else "cube")]
            )
            group = Group(words, kind_shape, set_needs(colors, kind_shape, both), tuple(colors))
            return self._except(group, start)
        if generic and not colors and shape is None:  # "an object", "the thing": which one?
            self.i = start
            return self.expect("a named object ('the red cube', not just 'object')")
        color = colors[0] if colors else None
        if bare and bare_ok:
            return Obj(describe(color, None), None, color, bare=True)  # see _borrow
        return self._obj(color, shape, start)

    def _modifiers(self) -> tuple[list[str], str | None]:
        colors: list[str] = []
        size = None
        while True:
            w = self.peek()
            if is_color(w):
                colors.append(color_of(w))
                self.i += 1
                back = self.i
                if self.eat_any((",", "and", "or", ", and", ", or")) and is_color(self.peek()):
                    continue
                self.i = back
            elif is_small(w):
                size = "small"
                self.i += 1
            elif w in LARGE_WORDS:
                size = "large"
                self.i += 1
            elif w in ("colored", "painted"):
                self.i += 1
            else:
                break
        return colors, size

    def _except(self, group: Group, start: int) -> Group:
        back = self.i
        comma = self.eat(",")  # "put the cubes on the plate, except the green one"
        if not self.eat_any(EXCEPT) or comma and self.t[self.i - 1] in ("but", "besides"):
            self.i = back
            return group
        outer, self.group_shape = self.group_shape, (group.shape,)
        items = self.np_list("except")
        self.group_shape = outer
        if not items or any(o == TABLE_OBJ or isinstance(o, SameColor) for o in items):
            self.i = back
            return group
        for o in items:
            if isinstance(o, Group):
                group = group.excluding(o.words, need=False)
            else:
                group = group.excluding(o.desc if o.shape else describe(o.color, group.shape))
        return group

    def _pronoun(self, role: str, start: int) -> Ref | None:
        if self.eat("each other"):
            self.i = start
            return None  # handled by the relation rules
        self.eat("it")
        if role == "subject":
            if len(self.prev_subjects) == 1:
                return self.prev_subjects[0]
        else:
            subj = {getattr(o, "desc", None) for o in self.subjects_now}
            before = [(p, o) for p, o in self.recent if p < start and o.desc not in subj]
            last = max(before, key=lambda po: po[0])[1] if before else None
            prev = [o for o in self.prev_subjects if isinstance(o, Obj) and o.desc not in subj]
            # "A left of the bowl and B right of it": the landmark of the last place (not
            # one A rests on: "A on the plate and B next to it" stays ambiguous)
            fixture = last is not None and not last.movable and last == self.landmark
            if fixture and getattr(self, "rel_pred", None) not in (None, "on", "in", "to"):
                return last
            if prev and last and len(prev) == 1 and prev[0] != last:
                self.i = start
                return self.expect(
                    f"one object ('it' could be the {prev[0].desc} or the {last.desc})"
                )
            if last is not None:
                return last
        self.i = start
        return self.expect("a named object ('it' refers to nothing here)")
