"""Transactional mail: one-off messages (sign-up confirmations, password resets, receipts) sent
at once through the same engine as campaigns.

    accept.py   tx_request_accept: check a request, refuse suppressed recipients, store one
                TxMessage per recipient, queue the job on the `transactional` queue (which
                every worker takes first), answer per recipient; Idempotency-Key replays
    send.py     tx_request_send (the job): claim the messages, route them (delivery/mx.py or
                the relay), send them per site with BatchSender under the site's shaping, on a
                connection lane of their own, DKIM-signed with the sender domain's key
    record.py   tx_results_record: statuses, attempts, retries (deferred with the campaigns'
                backoff for a day), hard bounces suppress; tx_bounce_record for bounces and
                complaints that come back later
    retry.py    for the reconciler: due deferred messages and lost jobs are queued again

Bounces find their message by the VERP return path `t-<TxMessage id>-<mac>@<bounce domain>`
(`delivery.verp.decode_token` answers Kind.TX and the id), or by the stored Message-ID.
"""
