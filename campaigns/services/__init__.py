"""Services: every write of the campaigns app, as `<noun>_<verb>` functions."""
