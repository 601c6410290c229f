"""Reads of the delivery app's dashboard: sender domains, sites, queues, workers, bounces."""
