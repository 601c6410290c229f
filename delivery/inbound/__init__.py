"""Receiving what comes back: bounce-in (SMTP), the mailbox poller, and their shared store."""
