"""Domain errors: raised inside, turned into a 4xx body with a code and a message at the edge."""


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, **details: object):
        super().__init__(message)
        self.message = message
        self.details = details


class Invalid(DomainError):
    status, code = 400, "invalid"


class NotAllowed(DomainError):
    status, code = 403, "not_allowed"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Unavailable(DomainError):
    """The store cannot record right now; the caller should retry (503 + Retry-After)."""

    status, code = 503, "unavailable"
