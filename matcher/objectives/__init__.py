"""Objective terms, one module each; :mod:`matcher.model` says how they are combined."""
