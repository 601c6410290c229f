"""The EDM platform's project package: settings, URLs, the shell pages and the launcher."""
