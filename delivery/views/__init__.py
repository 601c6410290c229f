"""Pages of the delivery app, one module per section."""
