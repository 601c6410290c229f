"""Message-IDs name their delivery, signed: a bounce at a plain address finds it by them."""

import re

from delivery import message_ids

SECRET = "test-secret"


def test_a_message_id_reads_back_to_its_delivery():
    message_id = message_ids.make(987654, "shop.example.com", SECRET)
    assert re.fullmatch(r"<987654\.[0-9a-f]{16}@shop\.example\.com>", message_id)
    assert message_ids.read(message_id, SECRET) == 987654


def test_two_messages_of_one_delivery_get_different_ids_that_both_read_back():
    first, second = (message_ids.make(0, "shop.example", SECRET) for _ in range(2))
    assert first != second
    assert message_ids.read(first, SECRET) == message_ids.read(second, SECRET) == 0


def test_case_brackets_and_spaces_as_mail_systems_mangle_them_still_read():
    message_id = message_ids.make(42, "Shop.Example", SECRET)
    assert message_ids.read(f"  {message_id.upper()} ", SECRET) == 42
    assert message_ids.read(message_id.strip("<>"), SECRET) == 42


def test_an_altered_delivery_id_nonce_or_secret_reads_as_nothing():
    message_id = message_ids.make(42, "shop.example", SECRET)
    local, _, domain = message_id.strip("<>").partition("@")
    number, _, token = local.partition(".")
    assert message_ids.read(f"<43.{token}@{domain}>", SECRET) is None
    assert message_ids.read(f"<042.{token}@{domain}>", SECRET) is None
    flipped = ("0" if token[0] != "0" else "1") + token[1:]
    assert message_ids.read(f"<{number}.{flipped}@{domain}>", SECRET) is None
    assert message_ids.read(message_id, "another-secret") is None


def test_claimed_tells_our_shape_from_someone_elses():
    assert message_ids.claimed("<43.0123456789abcdef@shop.example>") == 43
    assert message_ids.claimed("<CAF=abc@mail.gmail.com>") is None
    assert message_ids.read("<CAF=abc@mail.gmail.com>", SECRET) is None
