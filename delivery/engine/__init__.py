"""The asyncio delivery engine: many SMTP sessions per process (docs/DELIVERY.md)."""
