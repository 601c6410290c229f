"""Models of deliveries, attempts, sites and bounces."""
