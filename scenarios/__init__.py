"""Coverage scenarios: what-if Monte Carlo runs of the engine (``linli simulate``)."""
