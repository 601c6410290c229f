"""Pages of the campaigns app, one module per section."""
