"""Text typed by a person or a keyboard-wedge scanner, made comparable: NFKC folds full-width digits and
letters (an input method left in Chinese mode types `２０１９`) and the ideographic full stop to ASCII."""

from __future__ import annotations

import unicodedata


def normalise(text: str) -> str:
    """`text` in NFKC with the ideographic full stop as ".", stripped: `"３６．５"` and `"36。5"` become `"36.5"`."""
    return unicodedata.normalize("NFKC", text).replace("。", ".").strip()
