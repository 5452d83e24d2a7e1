# ruff: noqa
# attack: reach object through SkillError.mro()
# expect: rejected
def attack(robot, **params):
    base = SkillError.mro()[-1]
    print(base.__subclasses__())
