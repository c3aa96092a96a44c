"""The service layer's domain errors: raised by services, mapped to HTTP answers by :mod:`api.main`.

Services do not import FastAPI: they raise these (and
:class:`matcher.format.errors.InputError` for bad input, 422), and the app's exception
handlers turn each into ``{"detail": message}`` with its status code, the shape an
``HTTPException`` has.  The web pages catch them to show an error page instead.
"""

from __future__ import annotations


class ConflictError(Exception):
    """The request cannot be done in the resource's present state (HTTP 409).

    Parameters
    ----------
    message
        One line for the client, saying what is in the way and what to do instead.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
