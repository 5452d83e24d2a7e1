"""Clauses that arrange several objects at once: towers, pyramids, clearing, sorting.

- build: "build a tower with A at the bottom, then B, then C" / "a tower of A, B and C
  from top to bottom" / "make a tower: C on top, B in the middle and A at the bottom" /
  "stack A, B and C on top of each other" -> stacked(bottom, ..., top); untagged objects
  go bottom first in the order given (reversed by "from top to bottom").
  "build a pyramid with L and R at the base and T on top" (or "L on the left, R on the
  right, T on top") -> pyramid(L, R, T).
- clear: "clear the Y" / "empty the Y" / "clear the cubes off the Y" / "clear the Y of
  cubes" -> all(x in SET: not on(x, Y)) (SET: objects unless named; a movable Y is left
  out of its own set). The table cannot be cleared this way (refused).
- sort: "sort the cubes (by color) (into the bowls)" / "match each cube with the bowl
  of the same color" -> all(x in SET: in(x, <shape> of the same color)); `bind` turns
  "<shape> of the same color" into each member's own container.
"""

from __future__ import annotations

from agent.understand.clauses import (
    BOTTOM_UP,
    BUILD_WITH,
    CLEAR_FROM,
    PYRAMID,
    ROLE_SEP,
    ROLES,
    SORT_INTO,
    STACK_TAIL,
    TOP_DOWN,
    TOWER,
)
from agent.understand.lexicon import shown
from agent.understand.nouns import TABLE_OBJ, Group, Obj, SameColor, set_needs
from agent.understand.relations import BY_COLOR
from sim.goals import Atom, Not, Quant


class Arrangements:
    """Build, clear and sort rules of the reader (mixed into `reader.Parser`)."""

    # -- build ------------------------------------------------------------------------------
    def rule_build(self, verb: str, neg: bool, fronted):
        start = self.i
        kind = "tower" if self.eat_any(TOWER) else "pyramid" if self.eat_any(PYRAMID) else None
        if kind is None:
            if verb not in ("stack", "stack up", "pile up", "put together"):
                return self.expect("'a tower' or 'a pyramid'")
            return self._stack_list(start)
        self.note(start, shown(self.t[start : self.i]))
        if not self.eat_any(BUILD_WITH):
            return self.expect("what to build it with ('with the red cube at the bottom, ...')")
        items = self._role_items()
        if items is None:
            return None
        back = self.i
        self.eat(",")
        down = bool(self.eat_any(TOP_DOWN))
        if not down and not self.eat_any(BOTTOM_UP):
            self.i = back
        if kind == "tower":
            return self._tower(items, down)
        return self._pyramid(items)

    def _role_items(self) -> list[tuple[str | None, Obj]] | None:
        items: list[tuple[str | None, Obj]] = []
        while True:
            back = self.i
            if items and not self.eat_any(ROLE_SEP):
                break
            pre = self._role()
            objs = self.np_list("subject")
            if objs is None:
                self.i = back
                break
            post = self._role()
            for o in self.one_by_one(objs):
                if not isinstance(o, Obj) or o == TABLE_OBJ:
                    self.refuse("which objects make it (name them one by one)")
                items.append((post or pre, o))
        return items or self.expect("the objects to build it from")

    def _role(self) -> str | None:
        best = None
        for role, phrases in ROLES.items():
            p = next((p for p in sorted(phrases, key=lambda p: -len(p)) if self.at(p)), None)
            if p and (best is None or len(p.split()) > len(best[1].split())):
                best = (role, p)
        if best is None:
            return None
        self.eat(best[1])
        return best[0]

    def _tower(self, items, down: bool):
        plain = [o for r, o in items if r not in ("bottom", "top")]
        if down:
            plain.reverse()
        order = [o for r, o in items if r == "bottom"] + plain + [o for r, o in items if r == "top"]
        if len(order) < 2:
            self.refuse("a tower of fewer than two objects")
        return [Atom("stacked", tuple(o.desc for o in order))]

    def _pyramid(self, items):
        def take(role):
            return [o for r, o in items if r == role]

        base, top = take("bottom"), take("top")
        left, right = take("left"), take("right")
        rest = [o for r, o in items if r in (None, "middle")]
        left = left or base[:1] or rest[:1]
        rest = [o for o in rest if o not in left]
        right = right or [o for o in base if o not in left][:1] or rest[:1]
        rest = [o for o in rest if o not in right]
        top = top or rest[:1]
        if not (len(left) == len(right) == len(top) == 1) or len(items) != 3:
            self.refuse("a pyramid that is not two objects at the base and one on top")
        return [Atom("pyramid", (left[0].desc, right[0].desc, top[0].desc))]

    def _stack_list(self, start: int):
        subs = self._subjects()
        subs = self.one_by_one(subs) if subs else subs
        if subs is None or len(subs) < 2:
            self.i = start
            return None
        tail = self.eat_any(STACK_TAIL)
        down = bool(self.eat_any(TOP_DOWN))
        up = self.eat_any(BOTTOM_UP)
        if not (tail or down or up or self.done_clause()):
            self.i = start
            return None
        if not all(isinstance(s, Obj) for s in subs):
            self.refuse("the order of a tower made of a set (name the objects one by one)")
        order = list(reversed(subs)) if down else subs
        return [Atom("stacked", tuple(o.desc for o in order))]

    # -- clear ------------------------------------------------------------------------------
    def rule_clear(self, verb: str, neg: bool, fronted):
        start = self.i
        group = None
        items = self.np_list("subject")
        if items and len(items) == 1 and isinstance(items[0], Group):
            group = items[0]
            if not self.eat_any(CLEAR_FROM):
                self.i = start
                return None
            target = self._target()
        else:
            self.i = start
            target = self._target()
            if target is not None and self.eat("of"):
                g = self.np("subject")
                if not isinstance(g, Group):
                    return self.expect("what to clear it of ('of the cubes')")
                group = g
        if target is None:
            return None
        if target == TABLE_OBJ:
            self.refuse("where the things on the table should go ('clear the table')")
        if not isinstance(target, Obj):
            return self.expect("one object to clear")
        group = group or Group("objects", None, set_needs([], None, False))
        self.note_group(group)
        if target.movable:
            group = group.excluding(target.desc, need=False)
            self.note_group(group)
        body = Atom("on", ("x", target.desc))
        return [Quant("all", "x", group.words, body if neg else Not(body))]

    # -- sort -------------------------------------------------------------------------------
    def rule_sort(self, verb: str, neg: bool, fronted):
        start = self.i
        subs = self._subjects()
        if subs is None:
            return None
        by = self.eat_any(BY_COLOR)
        shape = "bowl"
        back = self.i
        if self.eat_any(SORT_INTO):
            t = self.np("target")
            if (
                isinstance(t, SameColor)
                or isinstance(t, Group)
                and t.shape
                and " except " not in t.words
                or isinstance(t, Obj)
                and t.color is None
                and t.shape not in (None, "table")
            ):
                shape = t.shape
            else:
                self.i = back
                return self.expect("containers such as 'the bowls'")
        by = by or self.eat_any(BY_COLOR)
        got_target = self.i != back
        if not by and not got_target and (verb == "match" or not self.done_clause()):
            self.i = start
            return None
        same = SameColor(shape)
        return [self.apply_atom(s, "in", same, neg) for s in subs]
