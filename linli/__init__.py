"""The ``linli`` command line."""
