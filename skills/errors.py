"""The one exception type of the skills package."""


class SkillError(Exception):
    """Raised for bad skill input or a skill that cannot do what it was asked.

    Raised inside skill code by the robot API (nothing matches "red cube", grasp failed),
    and by the library for bad input (unknown skill, corrupt bundle, invalid code).
    """
