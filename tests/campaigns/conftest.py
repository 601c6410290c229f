import shutil

import pytest

from campaigns.uploads import uploads_dir


@pytest.fixture(autouse=True)
def empty_uploads():
    """Each test starts with no uploaded files, so it can tell what it left behind."""
    shutil.rmtree(uploads_dir(), ignore_errors=True)
    yield uploads_dir()
