"""Tracking tokens carry their campaign, delivery and link, and refuse forgeries."""

from delivery.engagement.tokens import (
    Mark,
    click_token,
    click_url,
    open_token,
    open_url,
    read_click,
    read_open,
)

SECRET = "test-secret"


def test_a_click_token_reads_back_its_campaign_delivery_and_link():
    mark = Mark(7, 123456789012, 3)
    assert read_click(click_token(mark, SECRET), SECRET) == mark


def test_an_open_token_reads_back_its_campaign_and_delivery():
    mark = Mark(7, 1234)
    assert read_open(open_token(mark, SECRET), SECRET) == mark


def test_tokens_are_url_safe_and_short():
    url = click_url("https://mail.example.com/", Mark(12345, 9876543, 12), SECRET)
    token = url.removeprefix("https://mail.example.com/l/")
    assert token.replace("-", "").replace("_", "").isalnum()
    assert len(token) <= 40
    assert open_url("https://mail.example.com", Mark(1, 2), SECRET).endswith(".gif")


def test_an_altered_link_index_is_refused():
    campaign, delivery, _link, mac = click_token(Mark(7, 1234, 3), SECRET).split("-", 3)
    assert read_click(f"{campaign}-{delivery}-4-{mac}", SECRET) is None


def test_another_spelling_of_a_signed_number_is_refused():
    token = click_token(Mark(7, 1234, 3), SECRET)
    assert read_click("0" + token, SECRET) is None


def test_a_token_signed_with_another_secret_is_refused():
    assert read_click(click_token(Mark(7, 1234, 3), "other"), SECRET) is None


def test_an_open_token_cannot_be_used_as_a_click_and_back():
    open_mac = open_token(Mark(7, 1234, 0), SECRET).rsplit("-", 1)[1]
    assert read_click(f"7-1234-0-{open_mac}", SECRET) is None
    click_mac = click_token(Mark(7, 1234, 0), SECRET).rsplit("-", 1)[1]
    assert read_open(f"7-1234-{click_mac}", SECRET) is None


def test_garbage_is_refused_without_an_error():
    for token in [
        "",
        "x",
        "7-1234",
        "7-1234-3-" + "A" * 16 + "<script>",
        "9" * 30 + "-1-1-" + "A" * 16,
    ]:
        assert read_click(token, SECRET) is None
        assert read_open(token, SECRET) is None
