"""Masking of personal data for anything shown on a screen that people passing can read."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, 欧阳娜娜 → 欧**娜; Latin names keep their first letter per word."""
    name = name.strip()
    if not name:
        return ""
    if name.isascii():
        return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(person_id: str) -> str:
    """2023123434 → 2023****34: enough to recognise one's own card, not to read another's."""
    if len(person_id) <= 4:
        return "*" * len(person_id)
    keep_head = 4 if len(person_id) >= 8 else 1
    return person_id[:keep_head] + "*" * (len(person_id) - keep_head - 2) + person_id[-2:]


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
