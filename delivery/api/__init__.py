"""The delivery app's API routers: campaign stats and deliveries, bounces, transactional mail."""
