"""Provider webhooks for relay users (plain Python): checking that a request is genuine and
reading its events. The views are in delivery/views/webhooks.py."""
