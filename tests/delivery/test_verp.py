"""VERP return paths identify their delivery; forged or altered ones identify nothing."""

import pytest

from delivery import verp

SECRET = "test-secret"


def test_return_path_decodes_to_its_delivery():
    address = verp.encode(123456789, "bounces.example.com", SECRET)
    assert address.endswith("@bounces.example.com")
    assert verp.decode(address, SECRET) == 123456789


def test_return_path_is_short_and_lowercase():
    address = verp.encode(2**40, "bounces.example.com", SECRET)
    local_part = address.split("@")[0]
    assert len(local_part) <= 64  # RFC 5321 §4.5.3.1.1
    assert local_part == local_part.lower()
    assert set(local_part) <= set("abcdefghijklmnopqrstuvwxyz234567-0123456789")


def test_uppercased_return_path_still_decodes():
    address = verp.encode(42, "bounces.example.com", SECRET)
    assert verp.decode(address.upper(), SECRET) == 42
    assert verp.decode(f"<{address}>", SECRET) == 42


@pytest.mark.parametrize(
    "alter",
    [
        lambda a: a.replace("b-42-", "b-43-"),
        lambda a: a.replace("b-42-", "b-042-"),
        lambda a: a[:8] + ("a" if a[8] != "a" else "b") + a[9:],
        lambda a: a.replace("b-", "x-"),
        lambda a: a.split("-")[0] + "-42@bounces.example.com",
        lambda a: "someone@example.com",
        lambda a: "",
    ],
)
def test_altered_return_path_decodes_to_nothing(alter):
    address = verp.encode(42, "bounces.example.com", SECRET)
    assert verp.decode(alter(address), SECRET) is None


def test_return_path_from_another_secret_decodes_to_nothing():
    address = verp.encode(42, "bounces.example.com", "another-secret")
    assert verp.decode(address, SECRET) is None


def test_negative_delivery_id_is_refused():
    with pytest.raises(ValueError):
        verp.encode(-1, "bounces.example.com", SECRET)
