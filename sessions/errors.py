"""Errors the engine reports to a person: each message says what is wrong and what to do."""


class Refused(Exception):
    """An action the rules do not allow now; nothing was spent or changed."""
