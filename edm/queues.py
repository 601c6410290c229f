"""RQ queue names, highest priority first: a worker always takes from the earliest non-empty.

Transactional mail comes first so campaign traffic can never starve it.
"""

TRANSACTIONAL = "transactional"
DEFAULT = "default"
IMPORTS = "imports"
DELIVERY = "delivery"

ALL = (TRANSACTIONAL, DEFAULT, IMPORTS, DELIVERY)
