"""What every API router shares: token auth, the one error shape, cursor pages, the rate limit.

The API itself is put together in `edm/api.py`; each app owns its routers (`campaigns/api/`,
`delivery/api/`) and calls the same services as the browser pages.
"""
