# ruff: noqa
# attack: a match class pattern that reads a private attribute
# expect: rejected
def attack(robot, **params):
    match robot:
        case object(_world=world):
            world.client.resetSimulation()
