"""Planning, routing, throttling, SMTP, message building, DKIM, jobs, bounces and reports."""
