"""The compiled problem and its model: the instance (numpy arrays), the eligible pairs
and the static filters of the hard rules (:mod:`matcher.model.rules`), the CP-SAT
variables, the objective terms (:mod:`matcher.model.objectives`) and the full model
(:mod:`matcher.model.full`).
"""
