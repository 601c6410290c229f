from django.urls import path

from campaigns.views import contacts, imports, lists, placeholders, reports, suppressions

app_name = "campaigns"

urlpatterns = [
    path("lists/", lists.list_index, name="list_index"),
    path("lists/<int:pk>/", lists.list_detail, name="list_detail"),
    path("lists/<int:pk>/edit/", lists.list_edit, name="list_edit"),
    path("lists/<int:pk>/delete/", lists.list_delete, name="list_delete"),
    path("lists/<int:pk>/contacts/", lists.list_contacts, name="list_contacts"),
    path("lists/<int:pk>/contacts.csv", lists.list_export, name="list_export"),
    path("lists/<int:pk>/contacts/add/", contacts.list_contact_add, name="list_contact_add"),
    path(
        "lists/<int:pk>/contacts/<int:contact_pk>/remove/",
        contacts.list_contact_remove,
        name="list_contact_remove",
    ),
    path(
        "lists/<int:pk>/contacts/<int:contact_pk>/unsubscribe/",
        contacts.list_contact_unsubscribe,
        name="list_contact_unsubscribe",
    ),
    path("lists/<int:pk>/import/", imports.list_import, name="list_import"),
    path("contacts/<int:pk>/", contacts.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/blocklist/", contacts.contact_blocklist, name="contact_blocklist"),
    path("contacts/<int:pk>/delete/", contacts.contact_delete, name="contact_delete"),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress.json", imports.import_progress_json, name="import_progress"),
    path("imports/<int:pk>/cancel/", imports.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/rejected.csv", imports.import_rejected, name="import_rejected"),
    path("suppressions/", suppressions.suppression_index, name="suppression_index"),
    path(
        "suppressions/<int:pk>/remove/",
        suppressions.suppression_remove,
        name="suppression_remove",
    ),
    path("templates/", placeholders.template_index, name="template_index"),
    path("campaigns/", reports.campaign_index, name="campaign_index"),
    path("campaigns/<int:pk>/report/", reports.campaign_report, name="campaign_report"),
    path(
        "campaigns/<int:pk>/report/live.json",
        reports.campaign_report_live,
        name="campaign_report_live",
    ),
    *(
        path(
            f"campaigns/<int:pk>/report/{action}/",
            reports.campaign_control,
            {"action": action},
            name=f"campaign_report_{action}",
        )
        for action in reports.CONTROLS
    ),
    path(
        "campaigns/<int:pk>/report/recipients/",
        reports.campaign_recipients,
        name="campaign_recipients",
    ),
    path(
        "campaigns/<int:pk>/report/deliveries.csv",
        reports.campaign_export,
        name="campaign_export",
    ),
    path("contacts/<int:pk>/history/", reports.contact_history, name="contact_history"),
]
