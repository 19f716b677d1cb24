"""Check the built site the way a reader uses it: in a real browser.

Usage: ``python docs/_ext/site_check.py build/html [--screenshots DIR]``

Serves ``build/html`` on 127.0.0.1 and drives Debian's Chromium with Playwright. Fails on:

- a console error or uncaught page error (none is allowed: the site loads nothing remote);
- a broken internal link, image or download link;
- a gallery page without its code output or its figures, a notebook page without its figure;
- a page wider than a phone's screen (horizontal scrolling of the whole page);
- the search box not finding ``__call__``, ``loss.item`` and ``pin_memory`` on their pages, or,
  on the Chinese site (``zh_CN/``), 同步 and 显存 on theirs;
- a page whose language switch is missing, hidden, or not leading to the same page in the other
  language (both directions, every page).

It saves screenshots of the landing page, one gallery page and one narrative page at desktop
and phone widths, in both languages, and prints how long the check took.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
SCREENSHOTS = {
    "landing": "index.html",
    "gallery": "auto_examples/training/plot_cpu_vs_gpu.html",
    "narrative": "why_gpu_slower.html",
}
TRANSLATION = "zh_CN"  # the Chinese edition's folder under build/html
SCREENSHOTS |= {
    f"{label}-{TRANSLATION}": f"{TRANSLATION}/{page}" for label, page in SCREENSHOTS.items()
}
# Narrative notebook pages whose cells draw a figure.
NOTEBOOK_FIGURES = ["why_gpu_slower.html", "results.html"]
SEARCHES = {
    "__call__": "call_method",
    "loss.item": "plot_record_frequency",
    "pin_memory": "plot_transfer_cost",
}
# Chinese words, split by jieba in the Chinese site's search index.
SEARCHES_ZH = {"同步": "plot_transfer_cost", "显存": "plot_inspect_gpu"}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A browser that cancels a request it no longer needs closes the socket mid-reply.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def serve(root: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(QuietHandler, directory=str(root))
    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def site_pages(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.html")
                  if "_static" not in p.parts and "_sources" not in p.parts)  # fmt: skip


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def language_switch_problems(page, base: str, name: str, root: Path) -> list[str]:
    """The navbar's language switch is visible and leads to the same page in the other language."""
    if not (root / TRANSLATION / "index.html").is_file():
        return []  # an English-only build
    if name.startswith(f"{TRANSLATION}/"):
        expected = base + name.removeprefix(f"{TRANSLATION}/")
    else:
        expected = base + f"{TRANSLATION}/{name}"
    switch = page.locator(".bd-header .devicelab-language-switch a:visible").first
    if switch.count() == 0:
        return [f"{name}: no visible language switch in the navbar"]
    href = urldefrag(switch.evaluate("e => e.href")).url
    if href != expected:
        return [f"{name}: the language switch leads to {href}, not to {expected}"]
    return []


def check(root: Path, screenshots: Path) -> list[str]:
    problems: list[str] = []
    server = serve(root)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    checked_urls: dict[str, int] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            context = browser.new_context(viewport=DESKTOP)
            pages = site_pages(root)
            for name in pages:
                page = context.new_page()
                errors: list[str] = []
                page.on(
                    "console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None
                )
                page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
                page.goto(base + name, wait_until="load")
                problems += [f"{name}: console error: {e}" for e in errors]
                links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                images = page.eval_on_selector_all(
                    "img",
                    "els => els.map(e => [e.currentSrc || e.src, e.complete && e.naturalWidth > 0])",
                )
                for src, loaded in images:
                    if not loaded:
                        problems.append(f"{name}: image did not load: {src}")
                for url in links + [src for src, _ in images]:
                    url = urldefrag(url).url
                    if not url.startswith(base) or url in checked_urls:
                        continue
                    checked_urls[url] = status(url)
                    if checked_urls[url] != 200:
                        problems.append(f"{name}: broken link {url} ({checked_urls[url]})")
                same_in_both = name.removeprefix(f"{TRANSLATION}/")  # zh_CN pages: same checks
                gallery = same_in_both.startswith("auto_examples/")
                if gallery and Path(name).name.startswith("plot_"):
                    outputs = page.locator(".sphx-glr-script-out").count()
                    figures = page.locator(
                        "img.sphx-glr-single-img, img.sphx-glr-multi-img"
                    ).count()
                    downloads = page.locator(".sphx-glr-download a").count()
                    if outputs == 0:
                        problems.append(f"{name}: no code output")
                    if figures == 0 and "plot_call_method" not in name:
                        problems.append(f"{name}: no figure")
                    if downloads < 2:
                        problems.append(f"{name}: missing .py/.ipynb download links")
                problems += language_switch_problems(page, base, name, root)
                if (
                    same_in_both in NOTEBOOK_FIGURES
                    and page.locator(".cell_output img").count() == 0
                ):
                    problems.append(f"{name}: the notebook's figure is missing")
                page.close()

            phone = browser.new_context(viewport=PHONE, is_mobile=True, device_scale_factor=2)
            screenshots.mkdir(parents=True, exist_ok=True)
            for label, name in SCREENSHOTS.items():
                for width, ctx in (("desktop", context), ("phone", phone)):
                    page = ctx.new_page()
                    page.goto(base + name, wait_until="load")
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(screenshots / f"{label}-{width}.png"), full_page=True)
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                    )
                    if overflow > 1:
                        problems.append(
                            f"{name}: the whole page scrolls sideways by {overflow}px at {width} width"
                        )
                    page.close()

            searches = [("", q, e) for q, e in SEARCHES.items()]
            if (root / TRANSLATION / "index.html").is_file():
                searches += [(f"{TRANSLATION}/", q, e) for q, e in SEARCHES_ZH.items()]
            for prefix, query, expected in searches:
                page = context.new_page()
                page.goto(base + prefix + "index.html", wait_until="load")
                page.locator("button.search-button, .search-button-field").first.click()
                box = page.locator("input[name='q']:visible").first
                box.fill(query)
                box.press("Enter")
                page.wait_for_selector("#search-results ul.search li", timeout=15_000)
                hits = page.eval_on_selector_all(
                    "#search-results ul.search li a", "els => els.map(e => e.href)"
                )
                if not any(expected in hit and prefix in hit for hit in hits):
                    problems.append(
                        f"search for {query!r} in /{prefix} did not find {expected} (got {hits[:5]})"
                    )
                page.close()
            browser.close()
            print(
                f"site_check: {len(pages)} pages, {len(checked_urls)} internal URLs, "
                f"{len(searches)} searches, {2 * len(SCREENSHOTS)} screenshots in {screenshots}"
            )
    finally:
        server.shutdown()
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--screenshots", type=Path, default=Path("build/screenshots"))
    args = parser.parse_args(argv)
    if not (args.root / "index.html").is_file():
        print(f"site_check: {args.root}/index.html not found; build the site first (nox -s docs)")
        return 1
    if not Path(CHROMIUM).exists():
        print(
            f"site_check: {CHROMIUM} not found; install Debian's chromium (apt-get install chromium)"
        )
        return 1
    start = time.perf_counter()
    problems = check(args.root, args.screenshots)
    for problem in problems:
        print(f"site_check: {problem}")
    print(
        f"site_check: {'FAILED' if problems else 'passed'} in {time.perf_counter() - start:.1f} s"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
