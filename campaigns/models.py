"""Models of lists, contacts and campaigns."""
