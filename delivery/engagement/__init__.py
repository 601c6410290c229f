"""Open and click tracking: tokens, link rewriting, classification, the event pipeline.

docs/ENGAGEMENT.md describes what is recorded and kept, and how people are told from machines.
"""
