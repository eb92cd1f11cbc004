"""Normal forms of the things officers type: VRMs, postcodes, telephone numbers (libphonenumber), VINs.

Each function returns the normal form or raises ValueError with a reason the API shows beside the field.
"""
from __future__ import annotations

import re

import phonenumbers

POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def vrm(value: str) -> str:
    """'ab12 cde' -> 'AB12CDE': a registration mark as it is matched (spaces and punctuation dropped)."""
    mark = re.sub(r"[^A-Z0-9]", "", value.upper())
    if not 1 <= len(mark) <= 8:
        raise ValueError("must have 1 to 8 letters and digits")
    return mark


def vrm_fragment(value: str) -> str:
    """A partial VRM a witness gives: letters, digits and '?' for one unknown character."""
    fragment = re.sub(r"[^A-Z0-9?]", "", value.upper())
    if not 1 <= len(fragment) <= 8:
        raise ValueError("must have 1 to 8 letters, digits or ?")
    return fragment


def postcode(value: str) -> str:
    """'sw1a1aa' -> 'SW1A 1AA'; a UK postcode in its printed form."""
    compact = re.sub(r"\s+", "", value.upper())
    match = POSTCODE.match(compact)
    if not match:
        raise ValueError("is not a UK postcode (e.g. SW1A 1AA)")
    return f"{match[1]} {match[2]}"


def phone_number(value: str, default_country_code: str = "44") -> str:
    """'07400 123456' -> '+447400123456' (E.164), checked against libphonenumber's numbering plans; a national
    number is taken as UK unless it says otherwise."""
    text = value.strip()
    if re.search(r"[^0-9+\s().-]", text):
        raise ValueError("may contain only digits, spaces, brackets, dots, hyphens and a leading +")
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith(("+", "0")):
        raise ValueError("must start with 0 (a national number), 00 or + (international)")
    region = phonenumbers.region_code_for_country_code(int(default_country_code))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError("is not a valid telephone number") from None
    if not phonenumbers.is_valid_number(number):
        code = number.country_code or 0
        where = phonenumbers.region_code_for_country_code(code)
        raise ValueError(f"is not a valid telephone number (+{code}, {where}): a digit too few or "
                         "too many, or a range not in use")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def vin(value: str) -> str:
    code = re.sub(r"[\s-]", "", value.upper())
    if not VIN.match(code):
        raise ValueError("must be 17 letters and digits, without I, O or Q")
    return code
