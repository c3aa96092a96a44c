"""The exact model of format-2 problems with posts (needs for several volunteers together, or at sites).

:mod:`.instance` compiles a :class:`~matcher.format.schema.Problem2` (eligible volunteers per
need, with the reason codes of the others), :mod:`.variables` declares the CP-SAT variables,
:mod:`.rules` posts one constraint per module, and :mod:`.solve` builds, solves and writes the
format-2 plan.  :func:`matcher.solve.solve_any` routes a format-2 problem here when it has posts.
"""
