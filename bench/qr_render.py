"""How long drawing a notice's QR code takes, first time and from the cache.

The gate redraws the notice area at every resize and rotation. Encoding a new URL costs milliseconds once;
after that a resize redraws from the cached modules and a rotation back to a seen notice is a cache hit, so
drawing codes does not hold up the scans handled on the same thread. Run: .venv/bin/python bench/qr_render.py
"""

from __future__ import annotations

import time

from kiosk.domain.qr import module_matrix, render_qr

LENGTHS = (20, 60, 120, 200)
SIZE = (120, 40)
REPEATS = 200


def url_of_length(length: int) -> str:
    return ("https://news.bnu.edu.cn/" + "x" * length)[:length]


def per_call_us(call, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - start) / repeats * 1e6


def main() -> None:
    print(f"{'URL chars':>9}  {'modules':>7}  {'new URL (ms)':>12}  {'resize (µs)':>11}  {'cached (µs)':>11}")
    for length in LENGTHS:
        url = url_of_length(length)

        def cold(url: str = url) -> None:
            module_matrix.cache_clear()
            render_qr.cache_clear()
            render_qr(url, *SIZE)

        cold_ms = per_call_us(cold, 20) / 1000

        def resize(url: str = url) -> None:
            render_qr.cache_clear()  # the modules stay cached; only the drawing for a new size is redone
            render_qr(url, *SIZE)

        resize_us = per_call_us(resize, REPEATS)
        render_qr(url, *SIZE)
        cached_us = per_call_us(lambda url=url: render_qr(url, *SIZE), REPEATS)
        modules = len(module_matrix(url)) - 8
        print(f"{length:>9}  {modules:>7}  {cold_ms:>12.2f}  {resize_us:>11.1f}  {cached_us:>11.2f}")


if __name__ == "__main__":
    main()
