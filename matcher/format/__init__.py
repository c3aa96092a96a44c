"""The exchange format: problem and plan schema, reading and writing, input errors,
reason codes, bounds, change sets, the independent plan validator and the plan summary.

Nothing here imports the engine (:mod:`matcher.model`, :mod:`matcher.search`).
"""
