from django.urls import path

from campaigns import links, signup_tokens
from campaigns.views import (
    campaign_actions,
    campaigns,
    contacts,
    imports,
    lists,
    previews,
    public,
    reports,
    segments,
    signup_forms,
    signup_public,
    suppressions,
    templates,
)

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
    path("contacts/<int:pk>/export/", contacts.contact_export, name="contact_export"),
    path("contacts/<int:pk>/erase/", contacts.contact_erase, name="contact_erase"),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress.json", imports.import_progress_json, name="import_progress"),
    path("imports/<int:pk>/cancel/", imports.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/resume/", imports.import_resume, name="import_resume"),
    path("imports/<int:pk>/discard/", imports.import_discard, name="import_discard"),
    path("imports/<int:pk>/rejected.csv", imports.import_rejected, name="import_rejected"),
    path("suppressions/", suppressions.suppression_index, name="suppression_index"),
    path(
        "suppressions/<int:pk>/remove/",
        suppressions.suppression_remove,
        name="suppression_remove",
    ),
    path("segments/", segments.segment_index, name="segment_index"),
    path("segments/new/", segments.segment_create, name="segment_create"),
    path("segments/count.json", segments.segment_count_json, name="segment_count"),
    path("segments/<int:pk>/", segments.segment_edit, name="segment_edit"),
    path("segments/<int:pk>/delete/", segments.segment_delete, name="segment_delete"),
    path("templates/", templates.template_index, name="template_index"),
    path("templates/new/", templates.template_create, name="template_create"),
    path("templates/<int:pk>/", templates.template_edit, name="template_edit"),
    path("templates/<int:pk>/delete/", templates.template_delete, name="template_delete"),
    path("templates/<int:pk>/duplicate/", templates.template_duplicate, name="template_duplicate"),
    path("templates/preview/", previews.template_preview, name="template_preview"),
    path(
        "templates/preview/<str:slot>.html",
        previews.template_preview_html,
        name="template_preview_html",
    ),
    path(
        "templates/preview/contacts.json",
        previews.template_preview_contacts,
        name="template_preview_contacts",
    ),
    path("campaigns/", reports.campaign_index, name="campaign_index"),
    path("campaigns/new/", campaigns.campaign_create, name="campaign_create"),
    path("campaigns/audience.json", campaigns.campaign_audience, name="campaign_audience"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign_edit"),
    path(
        "campaigns/<int:pk>/preview.html",
        campaigns.campaign_preview_html,
        name="campaign_preview_html",
    ),
    path("campaigns/<int:pk>/start/", campaign_actions.campaign_start, name="campaign_start"),
    path(
        "campaigns/<int:pk>/schedule/", campaign_actions.campaign_schedule, name="campaign_schedule"
    ),
    path(
        "campaigns/<int:pk>/unschedule/",
        campaign_actions.campaign_unschedule,
        name="campaign_unschedule",
    ),
    path("campaigns/<int:pk>/pause/", campaign_actions.campaign_pause, name="campaign_pause"),
    path("campaigns/<int:pk>/resume/", campaign_actions.campaign_resume, name="campaign_resume"),
    path("campaigns/<int:pk>/cancel/", campaign_actions.campaign_cancel, name="campaign_cancel"),
    path(
        "campaigns/<int:pk>/duplicate/",
        campaign_actions.campaign_duplicate,
        name="campaign_duplicate",
    ),
    path("campaigns/<int:pk>/resend/", campaign_actions.campaign_resend, name="campaign_resend"),
    path(
        "campaigns/<int:pk>/test/", campaign_actions.campaign_test_send, name="campaign_test_send"
    ),
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
    # Public pages of the links in sent messages (campaigns/links.py makes their tokens).
    path(f"{links.UNSUBSCRIBE_PATH}/<str:token>/", public.unsubscribe, name="unsubscribe"),
    path(
        f"{links.UNSUBSCRIBE_PATH}/<str:token>/confirm/",
        public.unsubscribe_confirm,
        name="unsubscribe_confirm",
    ),
    path(
        f"{links.UNSUBSCRIBE_PATH}/<str:token>/preferences/",
        public.preferences_save,
        name="preferences_save",
    ),
    path(f"{links.VIEW_ONLINE_PATH}/<str:token>/", public.view_online, name="view_online"),
    # Sign-up forms: the dashboard's pages, then the public ones (signup_tokens.py's paths).
    path("forms/", signup_forms.signup_form_index, name="signup_form_index"),
    path("forms/new/", signup_forms.signup_form_create, name="signup_form_create"),
    path("forms/<int:pk>/", signup_forms.signup_form_edit, name="signup_form_edit"),
    path(
        f"{signup_tokens.CONFIRM_PATH}/<str:token>/",
        signup_public.signup_confirm_page,
        name="signup_confirm",
    ),
    path(
        f"{signup_tokens.FORM_PATH}/<str:public_id>/",
        signup_public.signup_form,
        name="signup_form",
    ),
]
