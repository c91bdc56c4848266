"""Every byte from the terminal is survived.

Textual's Linux driver decodes what it reads from the terminal as strict UTF-8 in its input thread
(`LinuxDriver.run_input_thread`, through the module's `getincrementaldecoder`): one undecodable byte — `ff fe`,
or a Latin-1 `é` from a misconfigured wedge scanner — raises UnicodeDecodeError there, the thread dies and the
kiosk ends. The kiosk's driver module decodes with errors="replace" instead: the byte becomes U+FFFD, which
the gate treats like any other character (a line holding it is rejected as not a card number).
"""

from __future__ import annotations

import codecs
import functools
from collections.abc import Callable


def _replacing_decoder(encoding: str) -> Callable[..., codecs.IncrementalDecoder]:
    return functools.partial(codecs.getincrementaldecoder(encoding), errors="replace")


def tolerate_undecodable_input() -> None:
    """Make the Linux driver's input decoder replace undecodable bytes (idempotent; before the app runs)."""
    from textual.drivers import linux_driver

    if not hasattr(linux_driver, "getincrementaldecoder"):  # a Textual upgrade moved it: fail loudly, not silently
        raise RuntimeError("textual.drivers.linux_driver no longer decodes with getincrementaldecoder")
    linux_driver.getincrementaldecoder = _replacing_decoder
