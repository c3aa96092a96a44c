"""Coverage scenarios: what-if Monte Carlo runs of the engine (``linli simulate``).

A scenario file (YAML) names a base week — a problem file or ``linli generate`` parameters — and
perturbations (attrition, recruitment, demand growth, certificate expiry, station closure,
availability shrink) applied in order in each of ``runs`` Monte Carlo runs.  Modules:

* :mod:`scenarios.model` — the scenario schema and loading (one ``error:`` line per bad file);
* :mod:`scenarios.perturbations` — one small pure function per perturbation kind;
* :mod:`scenarios.run` — perturb, solve, measure; local processes or a Dask cluster;
* :mod:`scenarios.simulate` — the runs aggregated into a report, with the recruit-first advice;
* :mod:`scenarios.output` — ``report.json``, PNG charts, the Markdown summary, comparisons.
"""
