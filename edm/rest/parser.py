"""The API's JSON body parser: django-ninja's, with a limit on nesting.

A body nested deeper than BODY_MAX_DEPTH answers 400 (ninja turns any parser error into
"Cannot parse request body") instead of overflowing the stack. The limit is well above
`types.MAX_NESTING` plus the levels of any schema, so a field nested too deeply still reaches
validation and answers a 422 that names it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

from edm.json_input import json_read

BODY_MAX_DEPTH = 512  # and below Python's recursion limit (1,000), so json.loads never hits it


class JsonBodyParser(Parser):
    """ninja's parser, refusing bodies nested deeper than BODY_MAX_DEPTH."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json_read(request.body, max_depth=BODY_MAX_DEPTH)
