import random

import pytest
from email_validator import EmailNotValidError, validate_email

from campaigns.emails import InvalidEmailError, normalize_domain, normalize_email


def slow_path(text: str) -> str | None:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def fast_or_none(text: str) -> str | None:
    try:
        return normalize_email(text).email
    except InvalidEmailError:
        return None


def tricky_addresses(count: int) -> list[str]:
    """Random strings built from the pieces that trip address parsers."""
    pieces = [
        "a",
        "Z",
        "0",
        ".",
        "..",
        "-",
        "_",
        "+",
        "=",
        "'",
        '"',
        " ",
        "@",
        "@@",
        "xn--",
        "--",
        "com",
        "COM",
        "test",
        "local",
        "1",
        "é",
        "中",
        "(",
        ")",
        ",",
        ";",
        "!",
        "~",
        "|",
        "postmaster",
        "Info",
        "x" * 64,
        "y" * 70,
    ]
    rng = random.Random(20240601)
    found = []
    for _ in range(count):
        local = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
        domain = ".".join(
            "".join(rng.choice(pieces) for _ in range(rng.randint(1, 3)))
            for _ in range(rng.randint(1, 3))
        )
        found.append(f"{local}@{domain}")
    return found


def test_fast_path_agrees_with_email_validator_on_every_address():
    addresses = [
        *tricky_addresses(20000),
        "John.Smith@Example.COM",
        "a@b.c",
        "a@x.test",
        "Postmaster@Example.com",
        "a@xn--abc.com",
        "a@xn--bcher-kva.de",
        "a@-x.com",
        "a@x-.com",
        "a@1.2.3.4",
        "a@x.c1",
        "a@" + "b" * 64 + ".com",
        "x" * 250 + "@a.com",
        " spaced@example.com ",
    ]
    disagreements = [a for a in addresses if fast_or_none(a) != slow_path(a)]
    assert disagreements == []
    assert sum(fast_or_none(a) is not None for a in addresses) > 50  # both outcomes are exercised


def test_domain_is_lower_cased_and_local_part_kept():
    assert normalize_email("  John.Smith@Example.COM ") == ("John.Smith@example.com", "example.com")


def test_idn_domains_are_accepted_in_unicode_form():
    assert normalize_email("Anna@BÜCHER.de").email == "Anna@bücher.de"
    assert normalize_email("a@xn--bcher-kva.de").email == "a@bücher.de"
    assert normalize_email("li@例子.中国").domain == "例子.中国"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no email address"),
        ("no-at-sign", "must have an @-sign"),
        ("a@b@example.com", "invalid characters"),
        ("a..b@example.com", "two periods in a row"),
        ("someone@example.test", "special-use or reserved name"),
    ],
)
def test_invalid_addresses_say_why(text, message):
    with pytest.raises(InvalidEmailError, match=message):
        normalize_email(text)


def test_domains_normalize_like_addresses():
    assert normalize_domain("@Example.COM.") == "example.com"
    assert normalize_domain("BÜCHER.de") == "bücher.de"
    with pytest.raises(InvalidEmailError):
        normalize_domain("not a domain")
