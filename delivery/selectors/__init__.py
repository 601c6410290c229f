"""Reading delivery data for pages, one module per section."""
