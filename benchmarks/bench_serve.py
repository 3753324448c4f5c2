"""Benchmark the served explorer: `cityscore serve` through many page loads, its memory bounded.

    python benchmarks/bench_serve.py [--loads 100] [--max-pages 4] [--idle-timeout 20]
                                     [--browser 0] [--every 10] [--keep DIR]

Makes a city folder as a new city does (``cityscore new``, then ``cityscore demo`` into its
database), starts ``cityscore serve`` there as a fresh process on a free port with a short
``--idle-timeout``, reads the link with its token from what it prints, and then:

- asks for the page once without the token: it must be refused (no explorer, no kernel);
- fetches the page with the token ``--loads`` times over plain HTTP, one after the other, as a
  script or a crawler does: each load runs the notebook in a new kernel (about 300 MB) that no
  page ever connects to, so kernels end by the idle cull or make room under ``--max-pages``;
- optionally opens and closes the page ``--browser`` times in headless Chromium, and times how
  long the closed page's kernel takes to go (``CLOSE_GRACE`` seconds and the shutdown);
- waits for the idle cull to end every kernel, then stops the server with SIGTERM.

After each load: its HTTP status, the live kernels (the server's ``ipykernel`` processes) and the
resident memory (RSS) of the whole process tree (``cityscore serve``, Voilà, kernels) and of
Voilà alone. RSS summed over processes counts shared pages more than once: an upper bound. The
server's RSS from load ``--every`` to the last load, per load, shows a leak the kernel cap would
hide; its open files and the kernels' connection files after the cull show leaked kernels.
Everything runs in one temporary folder (``TMPDIR`` and Jupyter's runtime folder included),
removed at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_cli import CLI, load  # noqa: E402
from benchmarks.bench_daily import clean_env, make_city  # noqa: E402

START_TIMEOUT = 90  # seconds for the server to print its link and answer
PAGE_TIMEOUT = 180  # seconds for one page (a kernel starts and runs the notebook)
CULL_INTERVAL = 10  # as cityscore.apps.voila_server's: seconds between two looks for idle kernels
CLOSE_GRACE = 10  # as cityscore.apps.voila_server's: seconds a page's kernel waits for the page
STOP_TIMEOUT = 40  # seconds `cityscore serve` gets to stop Voilà and its kernels on SIGTERM
MB = 1024 * 1024
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
CHART = "daily values vs target"  # a chart title the explorer's first view draws


@dataclass
class Server:
    """A running `cityscore serve`: its process, port, printed link and log file."""

    proc: subprocess.Popen
    port: int
    url: str
    log: Path
    seen: dict[int, psutil.Process] = field(default_factory=dict)  # its tree's processes so far
    stopped: tuple[int | None, float] | None = None  # exit status and seconds, once stopped

    @property
    def query(self) -> str:
        return urlsplit(self.url).query

    def tree(self) -> list[psutil.Process]:
        """``cityscore serve`` and every process under it now (remembered for the clean-up)."""
        try:
            root = psutil.Process(self.proc.pid)
            found = [root, *root.children(recursive=True)]
        except psutil.Error:
            return []
        self.seen.update((p.pid, p) for p in found)
        return found


@dataclass
class Sample:
    """What one look at the server's process tree found."""

    kernels: int
    tree_mb: float
    voila_mb: float
    zombies: int = 0
    voila_fds: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""


def sample(server: Server) -> Sample:
    """Live kernels, the tree's summed RSS and Voilà's own RSS and open files, now."""
    kernels = zombies = fds = 0
    tree = voila = 0.0
    for proc in server.tree():
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                zombies += 1
                continue
            rss = proc.memory_info().rss / MB
        except psutil.Error:  # ended while we looked
            continue
        tree += rss
        command = _cmdline(proc)
        if "ipykernel" in command:
            kernels += 1
        elif "cityscore.apps.voila_server" in command:
            voila = rss
            try:
                fds = proc.num_fds()
            except psutil.Error:
                fds = 0
    return Sample(kernels, tree, voila, zombies, fds)


def get(port: int, target: str) -> tuple[int, str, str]:
    """GET ``target`` from the server: status, ``Location`` header and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PAGE_TIMEOUT)
    try:
        conn.request("GET", target, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        return response.status, response.getheader("Location", ""), body
    finally:
        conn.close()


@contextmanager
def serving(city: Path, scratch: Path, max_pages: int, idle_timeout: int):
    """`cityscore serve` in ``city`` until the block ends; then stopped, its tree gone."""
    port = free_port()
    log = scratch / "serve.log"
    env = {
        **clean_env(),
        "TMPDIR": str(scratch / "tmp"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
    }
    for folder in ("tmp", "runtime"):
        (scratch / folder).mkdir(exist_ok=True)
    args = ["serve", "--port", str(port), "--max-pages", str(max_pages)]
    args += ["--idle-timeout", str(idle_timeout)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [CLI, *args], cwd=city, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    server = Server(proc, port, "", log)
    try:
        server.url = _announced_url(server)
        _wait_for_answer(server)
        yield server
    finally:
        stop(server)


def _fail(server: Server, what: str) -> SystemExit:
    tail = server.log.read_text(errors="replace")[-1500:]
    return SystemExit(f"cityscore serve {what}:\n{tail}")


def _announced_url(server: Server) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for line in server.log.read_text(errors="replace").splitlines():
            if line.startswith("CityScore explorer: "):
                return line.split(": ", 1)[1].strip()
        if server.proc.poll() is not None:
            raise _fail(server, f"exited with {server.proc.returncode}")
        time.sleep(0.2)
    raise _fail(server, "printed no link")


def _wait_for_answer(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise _fail(server, f"exited with {server.proc.returncode}")
        try:
            get(server.port, "/voila/static/")
            return
        except OSError:
            time.sleep(0.3)
    raise _fail(server, f"did not answer on port {server.port}")


def stop(server: Server) -> tuple[int | None, float]:
    """SIGTERM to `cityscore serve` (Voilà shuts its kernels down), then kill what is left of its
    tree; its exit status and the seconds it took to stop."""
    if server.stopped is not None:
        return server.stopped
    server.tree()
    started = time.monotonic()
    code = None
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            code = server.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            code = None
    else:
        code = server.proc.returncode
    seconds = time.monotonic() - started
    # Only processes still running as they were seen (is_running compares start times: a pid
    # reused since by another process is left alone).
    left = [proc for proc in server.seen.values() if proc.is_running()]
    for proc in left:
        try:
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(left, timeout=10)
    if server.proc.poll() is None:
        server.proc.kill()
    server.proc.wait()
    server.stopped = (code, seconds)
    return server.stopped


def refused_without_token(server: Server) -> str:
    """One request without the token: how it was answered, and whether a kernel started."""
    status, location, body = get(server.port, "/")
    refused = status != 200 and "widget-view" not in body
    where = f" to {urlsplit(location).path}" if location else ""
    kernels = sample(server).kernels
    verdict = "refused" if refused and not kernels else "SERVED"
    return f"{status}{where}, {kernels} kernels: {verdict}"


def page_loads(server: Server, loads: int, every: int) -> dict:
    """Fetch the page ``loads`` times; a sample after each; progress rows every ``every`` loads."""
    statuses: Counter[int] = Counter()
    samples: list[Sample] = []
    started = time.monotonic()
    print(f"{'loads':>6}{'status':>8}{'kernels':>9}{'tree MB':>9}{'Voilà MB':>10}{'s':>8}")
    for done in range(1, loads + 1):
        status, _, body = get(server.port, f"/?{server.query}")
        if status == 200 and "widget-view" not in body:
            status = -200  # answered, but not with the explorer
        statuses[status] += 1
        samples.append(now := sample(server))
        if done % every == 0 or done == loads:
            print(
                f"{done:>6}{status:>8}{now.kernels:>9}{now.tree_mb:>9,.0f}{now.voila_mb:>10,.0f}"
                f"{time.monotonic() - started:>8.0f}",
                flush=True,
            )
    return {"statuses": statuses, "samples": samples, "s": time.monotonic() - started}


def browser_cycles(server: Server, cycles: int, scratch: Path) -> list[float]:
    """Open the page in headless Chromium, wait for its first chart, close it, and time how long
    the page's own kernel (the one that started for it) takes to end; the seconds for each cycle
    (``nan``: it did not end within ``CLOSE_GRACE`` + 30 s, or no new kernel was found)."""
    from playwright.sync_api import sync_playwright

    os.environ["TMPDIR"] = str(scratch / "tmp")  # Chromium's and playwright's own scratch files
    times = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(cycles):
                before = set(kernel_processes(server))
                page = chromium.new_page()
                page.goto(server.url, timeout=PAGE_TIMEOUT * 1000)
                chart = page.locator("svg.marks text", has_text=CHART).first
                chart.wait_for(state="attached", timeout=PAGE_TIMEOUT * 1000)
                own = [k for pid, k in kernel_processes(server).items() if pid not in before]
                page.close(run_before_unload=True)
                closed = time.monotonic()
                while own and any(k.is_running() for k in own):
                    if time.monotonic() - closed > CLOSE_GRACE + 30:
                        break
                    time.sleep(0.5)
                ended = own and not any(k.is_running() for k in own)
                times.append(time.monotonic() - closed if ended else float("nan"))
        finally:
            chromium.close()
    return times


def kernel_processes(server: Server) -> dict[int, psutil.Process]:
    """The server's kernels running now, by process id."""
    return {
        proc.pid: proc
        for proc in server.tree()
        if "ipykernel" in _cmdline(proc) and proc.is_running()
    }


def wait_for_kernels(server: Server, at_most: int, timeout: float) -> int:
    """Wait until at most ``at_most`` kernels run (or ``timeout`` s): how many run then."""
    deadline = time.monotonic() + timeout
    while (count := sample(server).kernels) > at_most and time.monotonic() < deadline:
        time.sleep(1)
    return count


def connection_files(scratch: Path) -> int:
    return len(list((scratch / "runtime").glob("kernel-*.json")))


def summary(rows: list[tuple[str, str]]) -> str:
    width = max(len(what) for what, _ in rows)
    lines = [f"{'what':<{width}}  figure"]
    lines += [f"{what:<{width}}  {figure}" for what, figure in rows]
    return "\n".join(lines)


def measure(city: Path, scratch: Path, args: argparse.Namespace) -> list[tuple[str, str]]:
    """Serve the city, load its page, wait for the cull, stop it: the summary's rows."""
    rows: list[tuple[str, str]] = []
    with serving(city, scratch, args.max_pages, args.idle_timeout) as server:
        idle = sample(server)
        rows.append(("the page without the token", refused_without_token(server)))
        done = page_loads(server, args.loads, max(args.every, 1))
        samples, statuses = done["samples"], done["statuses"]
        shown = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
        before = samples[min(args.every, len(samples)) - 1]
        grows = (samples[-1].voila_mb - before.voila_mb) / max(len(samples) - args.every, 1)
        rows += [
            ("page loads (HTTP, one after the other)", f"{args.loads}"),
            ("statuses", shown),
            (
                "live kernels, most (cap --max-pages)",
                f"{max(s.kernels for s in samples)} ({args.max_pages})",
            ),
            (
                "tree RSS MB: idle, peak",
                f"{idle.tree_mb:,.0f}, {max(s.tree_mb for s in samples):,.0f}",
            ),
            (
                f"Voilà RSS MB: idle, load {args.every}, load {len(samples)}",
                f"{idle.voila_mb:,.0f}, {before.voila_mb:,.0f}, {samples[-1].voila_mb:,.0f} "
                f"({grows:+.2f} MB a load)",
            ),
            ("seconds for the loads (a load)", f"{done['s']:.0f} ({done['s'] / args.loads:.1f})"),
        ]
        if args.browser:
            try:
                gone = ", ".join(f"{s:.0f}" for s in browser_cycles(server, args.browser, scratch))
            except Exception as error:  # shown in the table; the cull and clean-up still run
                gone = f"failed ({type(error).__name__}: {str(error).splitlines()[0][:80]})"
            rows.append(("Chromium pages closed: s until their kernel went", gone))
        started = time.monotonic()
        wait = args.idle_timeout + CULL_INTERVAL + 30
        left = wait_for_kernels(server, 0, wait)
        time.sleep(2)  # the last shutdown's clean-up
        final = sample(server)
        rows += [
            (
                f"after the idle cull ({time.monotonic() - started:.0f} s): kernels, zombies",
                f"{left}, {final.zombies}",
            ),
            (
                "after the idle cull: tree RSS MB, Voilà RSS MB",
                f"{final.tree_mb:,.0f}, {final.voila_mb:,.0f}",
            ),
            ("Voilà open files: idle, after the cull", f"{idle.voila_fds}, {final.voila_fds}"),
            ("kernel connection files left", f"{connection_files(scratch)}"),
        ]
        code, seconds = stop(server)
        rows.append(("stopped by SIGTERM: exit status, s", f"{code}, {seconds:.1f}"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=100, help="page loads (default 100)")
    parser.add_argument(
        "--max-pages", type=int, default=4, help="cityscore serve --max-pages (default 4)"
    )
    parser.add_argument(
        "--idle-timeout", type=int, default=20, help="cityscore serve --idle-timeout (default 20)"
    )
    parser.add_argument(
        "--browser", type=int, default=0, help="Chromium open/close cycles after the loads"
    )
    parser.add_argument("--every", type=int, default=10, help="a progress row every N loads")
    parser.add_argument("--keep", type=Path, help="make the city folder here and keep it")
    args = parser.parse_args(argv)
    if args.loads < 1:
        parser.error("--loads must be 1 or more")
    args.every = min(max(args.every, 1), args.loads)
    print(f"load average before: {load()}; {os.cpu_count()} CPUs", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cityscore-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print("the demo city in a new city folder ...", flush=True)
        city = make_city(folder)
        rows = measure(city, Path(scratch), args)
        print(summary(rows))
    print(f"seconds in all: {time.monotonic() - started:.0f}")
    print(f"load average after: {load()} (other processes slow the wall clock down)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
