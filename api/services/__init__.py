"""The service layer the routers call: people (register, import) and planning (problem, jobs, versions)."""
