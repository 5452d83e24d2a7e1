"""Text -> goal: the deterministic goal reader (an LLM fallback may join it later).

    from agent.understand import bind, read_goal
    reading = read_goal("put every cube except the green one in the tray")
    str(reading.formula)      # 'all(x in cubes except green cube: in(x, tray))'
    reading.objects           # ('cube', 'cube', 'cube', 'green cube', 'tray')
    goal = bind(reading, ["red cube", "blue cube", "green cube", "purple tray"])

`read_goal` never guesses: what it cannot read is an AgentError saying what it
understood and what it did not. See `reader` for the grammar and the modules it names for
the phrase tables.
"""

from agent.understand.binding import bind, resolve
from agent.understand.reader import Reading, read_goal

__all__ = ["Reading", "bind", "read_goal", "resolve"]
