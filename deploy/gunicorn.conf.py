"""gunicorn settings for the web process (`gunicorn edm.wsgi -c deploy/gunicorn.conf.py`)."""

import multiprocessing
import os

bind = os.environ.get("EDM_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = 2
timeout = 60
# Uploads are streamed to disk by Django; nginx in front buffers slow clients.
accesslog = "-"
# Only nginx on this host is believed about X-Forwarded-Proto (gunicorn then marks the request
# https, which EDM_HTTPS's redirect and HSTS depend on); a proxy elsewhere needs
# EDM_PROXY_SSL_HEADER instead.
forwarded_allow_ips = "127.0.0.1"
