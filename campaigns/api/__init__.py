"""The campaigns app's API routers: lists, contacts, imports, suppressions, templates, campaigns.

Each operation parses its input, calls the service or selector the browser pages call, and
answers; errors of those services become the API's error shape in `edm/api.py`.
"""
