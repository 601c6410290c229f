import pytest

from delivery.engagement import links


@pytest.fixture(autouse=True)
def _forget_cached_links():
    """Test databases reuse campaign ids, which production never does: forget cached links."""
    links._cache.clear()
    yield
    links._cache.clear()
