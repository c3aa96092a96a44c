"""Linli's matching engine.

Layers, each importing only those before it:

* :mod:`matcher.format`: the exchange format (schema, reading and writing, input errors,
  reason codes, bounds, change sets, the independent validator, the plan summary);
* :mod:`matcher.model`: the compiled problem (instance, eligible pairs, the hard rules'
  filters and constraints, the objective terms, the full CP-SAT model, the plan types);
* :mod:`matcher.search`: the stages of a solve (:mod:`matcher.search.stages`) and the
  algorithms they run, every helper process and thread in :mod:`matcher.search.portfolio`;
* the entry points: :func:`matcher.solve.solve` and :func:`matcher.resolve.resolve`, with
  :class:`matcher.params.SolveParams` (options and tuning), :class:`matcher.clock.Budget`
  (the time) and :mod:`matcher.explain` (the plan written back in the format).

:mod:`matcher.standins` lists a finished plan's ranked stand-ins (备选志愿者) and swaps one in
without a solve.  :mod:`matcher.synth` generates realistic problems from the format alone.  Nothing is
imported here, so that the format can be used without the solvers.
"""
