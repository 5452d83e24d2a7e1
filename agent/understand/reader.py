"""The deterministic goal reader: an instruction in plain words -> a goal formula.

    reading = read_goal("put the red cube on the plate and the blue cube in the bowl")
    str(reading.formula)   # 'on(red cube, plate) and in(blue cube, bowl)'
    reading.objects        # ('red cube', 'plate', 'blue cube', 'bowl')
    bind(reading, scene)   # mentions resolved against the scene's descriptions

How it reads (small tables, one general grammar; see each module's docstring):
  instruction := clause (CONNECTOR clause)*      and , ; then, after that, finally ... / or
  clause      := [lead-in] [do not | never] VERB rest      (`clauses.VERBS` -> rules)
               | [make sure | ensure] SUBJECTS [be] [not] RELATION ...  (a verbless clause)
               | RELATION, VERB SUBJECTS          ("onto the tray, place the cube")
  A verbless clause after another reads with the previous verb ("put A on B and C in D",
  "rotate A by 45 degrees and B by 90"); a bare relation applies to the previous subjects
  ("put A on B and next to C"); "it"/"them" as a subject name the previous clause's
  subjects; "it" after a relation, the last object named before it (not read when the
  previous clause's subject is another candidate: "put A on B, then C on it" is refused as
  ambiguous; after a direction, the landmark of the previous direction: "A left of the
  bowl and B right of it"). A negated verb carries over to the verbless steps after it
  ("don't put A on B or in C": neither; not across "but"). Nouns: `nouns`; relations and
  regions: `relations` (tables), `relation_rules`; verbs: `clauses` (tables),
  `clause_rules`, `arrange`; the error message: `explain`. Every word must be read: an
  unknown verb, relation or object, or words left over, raise AgentError saying what was
  understood and what was not; nothing falls back to a nearest template.
A set subject makes a quantifier (all(x in cubes except red cube: in(x, tray))); a named
movable target is left out of the set. Conjunctions are read as one final state: a
`held(a)` followed by a clause that puts `a` somewhere is dropped ("pick up A and put it
in B" means in(A, B)). Numbers: degrees (counter-clockwise positive), meters.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.errors import AgentError
from agent.understand.arrange import Arrangements
from agent.understand.clause_rules import Clauses
from agent.understand.clauses import GERUNDS, VERBS
from agent.understand.cursor import Cursor, Refusal
from agent.understand.explain import message
from agent.understand.lexicon import CONNECTORS, LEAD_INS, NEGATORS, shown, tokenize
from agent.understand.needs import scene_needs
from agent.understand.nouns import TABLE_OBJ, Group, Nouns, Obj, SameColor
from agent.understand.relation_rules import Relations
from agent.understand.relations import Rel, target_pred
from sim.goals import And, Atom, Formula, Not, Or, Quant

DECLARE = (
    "make sure that",
    "make sure",
    "ensure that",
    "ensure",
    "see to it that",
    "check that",
    "i want",
    "i would like",
    "i need",
    "the goal is that",
    "such that",
    "so that",
    "have it so that",
    "arrange it so that",
    "set things up so that",
)
ACTION_HINT = "an action such as put, pick up, rotate, swap, line up, build, clear or sort"


@dataclass(frozen=True)
class Reading:
    """What an instruction asks for: a goal over canonical mentions, and what it needs."""

    formula: Formula
    objects: tuple[str, ...]
    text: str


class Parser(Arrangements, Clauses, Relations, Nouns, Cursor):
    def __init__(self, tokens: list[str]) -> None:
        super().__init__(tokens)
        self.prev_subjects: list = []
        self.subjects_now: list = []
        self.subject_now = None
        self.recent: list[tuple[int, Obj]] = []
        self.groups: dict[str, Group] = {}
        self.neg_now = False  # the clause's own negation ("do not put", "should not be")
        self.last_dir = self.dir_before = None  # (direction, object) of 'left of the bowl'

    # -- sentences ----------------------------------------------------------------------
    def instruction(self) -> list[list[Formula]]:
        groups: list[list[Formula]] = [[]]
        prev: tuple[str, list[str]] | None = None
        inherit = False
        self.eat("either")
        while True:
            got = self.clause(prev, inherit)
            if got is None:
                raise Refusal("", self.far)
            formulas, prev = got
            groups[-1].extend(formulas)
            self.prev_subjects = self.subjects_now or self.prev_subjects
            self.dir_before = self.last_dir
            if self.done():
                return groups
            back = self.i
            seps = []
            while not self.at("next to"):
                s = self.eat_any(CONNECTORS + ("or", "or else", "nor"))
                if s is None:
                    break
                seps.append(s)
            if not seps:
                self.expect("'and', 'then' or the end of the sentence")
                raise Refusal("", self.far)
            # "do not put A on B or (in) C": a verbless step keeps the negation (and 'or'
            # under it means neither); "... but in C" does not
            inherit = self.neg_now and "but" not in seps
            if ("or" in seps or "or else" in seps) and not inherit:
                groups.append([])
            if self.done():
                self.i = back
                self.expect("another step after " + repr(seps[-1]))
                raise Refusal("", self.far)

    def clause(self, prev, inherit: bool = False):
        """(formulas, (verb, rules)) for one clause, or None. `inherit`: a verbless clause
        is negated (the previous clause's negated verb carries over)."""
        start = self.i
        while not self.at("next to") and self.eat_any(LEAD_INS):
            pass
        neg = bool(self.eat_any(NEGATORS))
        declared = self.eat_any(DECLARE)
        self.subjects_now, self.subject_now = [], None
        if not declared and self.peek() in GERUNDS:  # "would you mind putting ..."
            self.t[self.i] = GERUNDS[self.peek()]
        verb = None if declared else self.eat_any(VERBS)
        if verb:
            self.note(self.i - len(verb.split()), verb)
            got = self._rules(verb, VERBS[verb], neg, None)
            return (got, (verb, VERBS[verb])) if got is not None else None
        if not declared and not neg:
            self.expect(ACTION_HINT)
            fronted = self._fronted()
            if fronted is not None:
                return fronted
        if prev is not None and not declared:
            neg = neg or inherit
            got = self._rules(prev[0], prev[1], neg, None)
            if got is not None:
                return got, prev
            got = self._ellipsis(neg)
            if got is not None:
                return got, prev
        got = self._rules(None, ["move"], neg, None)
        if got is None:
            self.i = start
        return (got, (None, ["move"])) if got is not None else None

    def _rules(self, verb, rules, neg, fronted):
        """The first of `rules` that reads the clause up to its end."""
        start = self.i
        for rule in rules:
            self.i = start
            self.neg_now = neg
            got = getattr(self, "rule_" + rule)(verb, neg, fronted)
            if got is not None and (self.done_clause() or self.at("or")):
                return got
            if got is not None:
                self.expect("'and', 'then' or the end of the sentence")
        self.i = start
        return None

    def _fronted(self):
        """'Onto the purple tray, place the green cube.'"""
        start = self.i
        r = self.rel()
        if r is None or r.kind not in ("pred", "unary", "inverse"):
            self.i = start
            return None
        self.eat(",")
        verb = self.eat_any(VERBS)
        got = self._rules(verb, VERBS[verb], False, r) if verb else None
        if got is None:
            self.i = start
            return None
        return got, (verb, VERBS[verb])

    def _ellipsis(self, neg: bool):
        """'... and next to the bowl' (same subjects) or '... and the plate' (same relation)."""
        start = self.i
        subs = self.prev_subjects
        if not subs:
            return None
        self.subjects_now, self.neg_now = subs, neg
        r = self.rel()
        if r is not None and self.done_clause():
            return self.apply(subs, r, neg)
        self.i = start
        return None

    # -- formulas -------------------------------------------------------------------------
    def note_group(self, g: Group) -> None:
        self.groups[g.words] = g

    def apply(self, subs: list, r: Rel, neg: bool) -> list[Formula]:
        """The formulas a relation makes for each subject (pairs and rows for several)."""
        neg = neg != r.neg
        if r.kind in ("row", "pair"):
            subs = self.one_by_one(subs)
            if len(subs) < 2 or not all(isinstance(s, Obj) for s in subs):
                what = "an order" if r.kind == "row" else f"'{r.pred.replace('_', ' ')}' each other"
                self.refuse(f"{what} for a set or one object (name the objects one by one)")
            if r.kind == "row":
                order = list(reversed(subs)) if r.reverse else subs
                return [self._neg(Atom("in_row", tuple(s.desc for s in order)), neg)]
            extra = (r.num,) if r.num is not None else ()
            return [
                self._neg(Atom(r.pred, (a.desc, b.desc) + extra), neg)
                for a, b in zip(subs, subs[1:], strict=False)
            ]
        if r.kind == "unary":
            return [self.apply_atom(s, r.pred, None, neg) for s in subs]
        if r.kind == "inverse":
            return [self.apply_atom(s, "under", r.targets[0], neg) for s in subs]
        t = r.targets[0]
        if t == TABLE_OBJ:
            table = {
                "on": "on_table",
                "to": "on_table",
                "in": "on_table",
                "left_of": "left_side",
                "right_of": "right_side",
                "in_front_of": "front",
                "behind": "back",
            }
            if r.pred not in table:
                self.refuse(f"'{r.pred.replace('_', ' ')}' the table")
            return [self.apply_atom(s, table[r.pred], None, neg) for s in subs]
        rest = r.targets[1:] + ((r.num,) if r.num is not None else ())
        return [self.apply_atom(s, target_pred(r.pred, t), t, neg, rest) for s in subs]

    def apply_atom(self, s, pred: str, arg, neg: bool, rest=()) -> Formula:
        """pred(s, arg, *rest) for one subject; a set subject makes a quantifier."""
        term = "x" if isinstance(s, Group) else s.desc
        if isinstance(arg, SameColor):
            has = isinstance(s, Obj) and s.color
            second = f"{s.color} {arg.shape}" if has else arg.desc
            pred = "in" if arg.shape in ("bowl", "zone") else "on"
            args = (term, second)
        elif pred == "under":
            pred, args = "on", (arg.desc, term)
        elif arg is None:
            args = (term,)
        elif arg == "self":
            args = (term, term)
        elif isinstance(arg, float):
            args = (term, arg)
        else:
            args = (term, arg.desc)
        args += tuple(x if isinstance(x, float) else x.desc for x in rest)
        atom = self._neg(Atom(pred, args), neg)
        if not isinstance(s, Group):
            return atom
        for o in [arg, *rest]:
            if isinstance(o, Obj) and o.movable and o != TABLE_OBJ:
                s = s.excluding(o.desc, need=False)
        self.note_group(s)
        return Quant("all", "x", s.words, atom)

    @staticmethod
    def _neg(f: Formula, neg: bool) -> Formula:
        return Not(f) if neg else f


# -- the reading ----------------------------------------------------------------------------
def read_goal(text: str) -> Reading:
    """Read a goal from an instruction. Raises AgentError (one line) when it cannot."""
    raw = " ".join((text or "").split())
    if not raw:
        raise AgentError("could not read a goal: the instruction is empty")
    tokens = tokenize(raw)
    if not tokens:
        raise AgentError(
            f"could not read a goal from '{raw}': understood nothing; did not understand '{raw}'"
        )
    p = Parser(tokens)
    try:
        groups = p.instruction()
    except Refusal as r:
        raise AgentError(message(raw, p, r)) from None
    ands = [_and(_settle(g)) for g in groups]
    formula = ands[0] if len(ands) == 1 else Or(tuple(ands))
    return Reading(formula, scene_needs(formula, p.groups), shown(tokens))


def _and(parts: list[Formula]) -> Formula:
    flat = [q for f in parts for q in (f.parts if isinstance(f, And) else (f,))]
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _settle(parts: list[Formula]) -> list[Formula]:
    """Drop repeats, and held(a) when a later part puts a somewhere (the goal is the
    final state)."""
    out: list[Formula] = []
    for k, f in enumerate(parts):
        if f in out:
            continue
        if isinstance(f, Atom) and f.pred == "held":
            later = [g for g in parts[k + 1 :] if isinstance(g, Atom) and g.pred != "held"]
            if any(g.args and g.args[0] == f.args[0] for g in later):
                continue
        out.append(f)
    return out
