"""Bounce, complaint and auto-reply parsing and classification (plain Python, no Django).

- parse(raw: bytes) -> Report: what a received message is, and what it says per recipient.
- classify_reply(code, enhanced, text, command=None) -> Classification: the same taxonomy and
  rules for a reply received during an SMTP session.
- parse_ses_event(document: dict) -> Report: an Amazon SES event (SNS notification JSON).
"""

from delivery.bounces.classify import Classification, classify_reply
from delivery.bounces.parser import parse, parse_ses_event
from delivery.bounces.reasons import DEAD_ADDRESS, SENDER_SIDE, Reason
from delivery.bounces.report import Command, Kind, Recipient, Report

__all__ = [
    "DEAD_ADDRESS",
    "SENDER_SIDE",
    "Classification",
    "Command",
    "Kind",
    "Reason",
    "Recipient",
    "Report",
    "classify_reply",
    "parse",
    "parse_ses_event",
]
