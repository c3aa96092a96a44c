"""Objective terms, one module each; :mod:`matcher.model.full` says how they are combined."""
