"""Hard rules 1-9 of FORMAT.md, one module each.

A rule either *filters* candidate (volunteer, need) pairs before the model exists
(``keep(inst, n, cand)``: which candidates of need ``n`` the rule allows, with the
reason code ``CODE`` it gives to those it refuses), or *constrains* the pairs that
exist (``add(model, vars)``), or both.  :mod:`matcher.model.full` lists them; the
explanation of unmet needs (:mod:`matcher.explain`) replays the same filters.
"""
