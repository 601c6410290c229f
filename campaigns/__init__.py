"""Lists, contacts, imports, templates, campaigns and unsubscribe."""
