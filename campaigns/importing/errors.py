"""Why a contact file cannot be read, said for the person who uploaded it."""


class BadFileError(Exception):
    """The file cannot be imported as it is; str(exc) tells the user what to change."""
