"""`skillgrove learn --explore`: the agent proposes its own goals and practises them.

The stages, one module each:

- `catalog`: the object kinds and colors scenes are made of, read from the simulator's
  catalogue (`sim.objects.SHAPES`, `COLORS`), with the roles each kind can play (a mover,
  a container, a flat support, a stack's base, a reference);
- `templates`: goal templates of the goal language (relations, regions, supports, sets,
  sequences, start states) with their words;
- `sampler`: a template's slots filled from the catalogue into a scene and a goal, kept
  only when the goal checks on the scene and the goal planner finds a placement (else
  dropped with the reason);
- `competence`: success per template from the agent's own history, and the choice of
  what to practise next by learning progress (neither hopeless nor mastered, some
  exploration of templates never tried); templates that cannot be done are marked out
  of reach with the reason (unreachable, unstable, no skill);
- `store`: the history in the data home's database (tables migrated like the others);
- `loop`: the episodes, each through the agent exactly as `run` does, judged by the
  simulator's verdict, committed one by one (an interrupt loses nothing learned);
- `policy_link`: self-supervised policy data from the successful runs and failures
  queued for corrections (the policy's own functions, behind one import);
- `report`: what the UI's learning page shows.
"""
