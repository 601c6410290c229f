"""`manage.py deliveryworker`: campaign batches on the async engine (delivery/engine/worker.py)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from delivery.engine.worker import DeliveryWorker


class Command(BaseCommand):
    help = "Send campaign batches from the delivery queue, many SMTP sessions in one process."

    def add_arguments(self, parser):
        parser.add_argument(
            "--connections",
            type=int,
            default=None,
            help="Sessions at once (default: EDM_WORKER_CONNECTIONS).",
        )
        parser.add_argument(
            "--burst", action="store_true", help="Stop once the queue is empty and nothing runs."
        )

    def handle(self, *args, connections=None, burst=False, **options):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        worker = DeliveryWorker(
            connections=connections or settings.EDM_WORKER_CONNECTIONS, burst=burst
        )
        code = worker.run()
        if code:
            raise SystemExit(code)
