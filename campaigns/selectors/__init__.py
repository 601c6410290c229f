"""Selectors: reads for pages and for other parts of the product."""
