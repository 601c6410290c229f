"""The Outbox of capture mode: captured messages, their parts and a sandboxed preview."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from delivery.models import CapturedMessage
from delivery.outbox import captured_message_parts, captured_messages_page

# The captured HTML is untrusted: no scripts, no forms, nothing fetched from the network.
UNTRUSTED_HTML_POLICY = "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'"


@require_GET
def outbox(request):
    before = request.GET.get("before")
    messages = captured_messages_page(before=int(before) if before and before.isdigit() else None)
    return render(
        request,
        "delivery/outbox.html",
        {"messages_page": messages, "next_before": messages[-1].id if len(messages) else None},
    )


@require_GET
def outbox_message(request, pk: int):
    message = get_object_or_404(CapturedMessage, pk=pk)
    return render(
        request,
        "delivery/outbox_message.html",
        {"message": message, "parts": captured_message_parts(message)},
    )


@require_GET
@xframe_options_sameorigin
def outbox_message_html(request, pk: int):
    """The HTML part alone, for the sandboxed preview iframe."""
    parts = captured_message_parts(get_object_or_404(CapturedMessage, pk=pk))
    if parts.html is None:
        raise Http404("This message has no HTML part.")
    response = HttpResponse(parts.html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = UNTRUSTED_HTML_POLICY
    return response
