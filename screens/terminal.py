"""Every byte from the terminal is survived, and every key: two arriving at once never close more than they should.

Textual's Linux driver reads the terminal in its own input thread (`LinuxDriver.run_input_thread`): it decodes
the bytes as strict UTF-8 (through the module's `getincrementaldecoder`) and parses them with `XTermParser`.
One undecodable byte — `ff fe`, or a Latin-1 `é` from a misconfigured wedge scanner — raises UnicodeDecodeError
there, and some malformed escape sequences raise from the parser (a kitty key code beyond U+10FFFF: ValueError
from chr()); either way the thread dies and the kiosk ends. Here the driver module is given a decoder that
replaces undecodable bytes with U+FFFD (a line holding it is rejected like any other garbage) and a parser that
drops a sequence it cannot parse and starts afresh.
"""

from __future__ import annotations

import codecs
import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from textual import events
from textual._xterm_parser import XTermParser
from textual.await_complete import AwaitComplete
from textual.message import Message
from textual.messages import InBandWindowResize
from textual.screen import Screen


def _replacing_decoder(encoding: str) -> Callable[..., codecs.IncrementalDecoder]:
    return functools.partial(codecs.getincrementaldecoder(encoding), errors="replace")


class TolerantXTermParser(XTermParser):
    """Textual's terminal parser, which survives any input: what it cannot parse is dropped, and so are the
    terminal's size reports (`CSI 48;rows;cols;…t`) and its answer to whether it sends them (`CSI ?2048;…$y`).
    Any bytes on the input can forge those: a 1×1 or 9999×9999 "size" stopped the gate being drawn. Without the
    answer Textual never asks for the reports and takes the size from the kernel on every SIGWINCH."""

    def feed(self, data: str) -> Iterable[Message]:
        try:
            yield from self._trusted(super().feed(data))
        except Exception:  # noqa: BLE001 - any failure inside Textual's parser would end the input thread
            self._start_afresh()

    def tick(self) -> Iterable[Message]:
        try:
            yield from self._trusted(super().tick())
        except Exception:  # noqa: BLE001 - as in feed
            self._start_afresh()

    def _trusted(self, messages: Iterable[Message]) -> Iterator[Message]:
        for message in messages:
            if isinstance(message, events.Resize):
                self.mouse_pixels = False  # the parser took a size report as a sign of pixel mouse coordinates
            elif not isinstance(message, InBandWindowResize):
                yield message

    def _start_afresh(self) -> None:
        """The parse generator died with the exception: a new one, in the ground state."""
        self._tokens.clear()
        self._timeout_time = None
        self._eof = False
        self._gen = self.parse(self._tokens.append)
        self._awaiting = next(self._gen)


def tolerate_any_input() -> None:
    """Give the Linux driver the replacing decoder and the tolerant parser (idempotent; before the app runs)."""
    from textual.drivers import linux_driver

    module: Any = linux_driver
    for name in ("getincrementaldecoder", "XTermParser"):  # a Textual upgrade moved them: fail loudly
        if not hasattr(module, name):
            raise RuntimeError(f"textual.drivers.linux_driver no longer uses {name}: see screens/terminal.py")
    module.getincrementaldecoder = _replacing_decoder
    module.XTermParser = TolerantXTermParser


def dismiss_only_the_top_screen() -> None:
    """Textual's `Screen.dismiss` runs the screen's result callback and pops whatever screen is on top, even for a
    screen already dismissed: Escape and a click or Enter queued on a dialog dismissed it twice, which popped the
    screen under it too (the gate: a blank screen that still recorded scans; found by the terminal fuzz test) and
    ran the callback twice. Here a screen that is not on top is not dismissed again (idempotent)."""
    plain = Screen.dismiss
    if getattr(plain, "top_only", False):
        return

    def dismiss(self: Screen[Any], result: Any = None) -> AwaitComplete:
        if self is not self.app.screen:
            return AwaitComplete()
        return plain(self, result)

    dismiss.top_only = True  # type: ignore[attr-defined]
    Screen.dismiss = dismiss  # type: ignore[method-assign]
