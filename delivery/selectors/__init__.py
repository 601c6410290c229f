"""Reading for the dashboards: selectors that answer pages from aggregates, never counts."""
