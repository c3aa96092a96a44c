"""The search: the stages of a solve (:mod:`matcher.search.stages`) and the algorithms they
run (greedy, neighbourhood search, column generation, branch-and-price, HiGHS and
CP-SAT proofs, level 2-3 refinement), with every helper process and thread in
:mod:`matcher.search.portfolio`.
"""
