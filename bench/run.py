#!/usr/bin/env python3
"""Benchmark the generator the way editors and CI run it: `python build.py …` as a cold process.

    python bench/run.py [--sizes 100,1000,10000] [--runs 3] [--out bench/results.md]

For each size N a synthetic corpus of N response files (bench/corpus.py) is
written once into a temporary folder outside the repository, and these are
timed, each the median of --runs runs:

  full clean build       site, .builds, .cache and .preview set aside first (moved, not deleted)
  rebuild, no change     the same build again, nothing touched
  rebuild, one change    a sentence appended to one .fi.md file (another file each run)
  check, cold cache      `check` with .cache set aside first
  check, warm cache      `check` with the cache the last build left
  search index           on its own, if the project has a search step
  preview latency        `serve`: from writing a changed file to the new page served over HTTP

Wall time is taken here with time.perf_counter around the subprocess; peak
memory is the RSS of the process and all its children summed, sampled every
50 ms from /proc. Linux only (it reads /proc); standard library only.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_PY = ROOT / "build.py"
sys.path.insert(0, str(ROOT / "bench"))
from corpus import generate  # noqa: E402 (bench/ on sys.path first)

PYTHON = sys.executable
SAMPLE_EVERY = 0.050
"""Seconds between two memory samples: a sample costs ~0.5 ms of CPU, taken from the build
being measured, and no build holds its peak for less than that."""
POLL_EVERY = 0.005
"""Seconds between two HTTP requests while waiting for the preview to change."""
BUILD_TIMEOUT = 1800
SERVE_START_TIMEOUT = 1800
PREVIEW_TIMEOUT = 120
QUIET_TIMEOUT = 300
SEARCH_SWITCH = "SITEGEN_SEARCH"
PDF_SWITCH = "SITEGEN_PDF"
"""The benchmarks build without the print edition (sitegen/pdf.py): PDF_SWITCH=0 in every build."""
TRASH = "trash"
"""The folder, beside the corpora in the benchmark's temporary folder, that set_aside() moves into."""
NOT_BUILT = "not built yet"

PEERS = (
    # (N, scenario, tool, median seconds, note)
    (1000, "full clean build", "Hugo", 0.63, ""),
    (1000, "full clean build", "MkDocs", 4.1, ""),
    (1000, "full clean build", "Pelican", 6.1, ""),
    (10000, "full clean build", "Hugo", 4.9, ""),
    (10000, "full clean build", "MkDocs", 36, ""),
    (10000, "full clean build", "Pelican", 63, ""),
    (10000, "rebuild, one change", "MkDocs", 1.3, "`mkdocs build --dirty`"),
    (10000, "rebuild, one change", "Pelican", 36, "with its cache"),
    (10000, "rebuild, one change", "Hugo", 6.7, "`hugo` (full build)"),
    (10000, "rebuild, one change", "hugo server", 0.24, "per changed file, in memory"),
)


# -- memory ---------------------------------------------------------------------------------------


PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


def _rss_kib(pid: int) -> int:
    # statm's second field is VmRSS in pages; the kernel writes it several times faster than status.
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * PAGE_KIB
    except (OSError, ValueError, IndexError):
        return 0  # gone


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as handle:
                kids += [int(k) for k in handle.read().split()]
        except (OSError, ValueError):
            pass
    return kids


def tree_rss_kib(pid: int) -> int:
    """VmRSS of `pid` and all its descendants, summed (shared pages count once per process)."""
    total, seen, todo = 0, set(), [pid]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_kib(p)
        todo += _children(p)
    return total


class PeakRSS:
    """Samples a process tree's summed RSS every SAMPLE_EVERY s in a thread; `.peak_mib` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.pid))
            if self._stop.wait(SAMPLE_EVERY):
                return

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kib / 1024

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024


# -- running the generator --------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    peak_mib: float
    said: str = ""
    """The command's last line of output (its summary), for the progress log."""


@dataclass
class Row:
    n: int
    scenario: str
    samples: list[Sample] = field(default_factory=list)
    pages: int | None = None
    """HTML pages in site/, for pages per second."""
    note: str = ""
    """Shown instead of figures when there are none."""
    seconds: float | None = None
    """A derived time (no samples of its own), e.g. a difference of two medians."""


class BenchError(RuntimeError):
    pass


def timed(command: list[str], cwd: Path, env: dict[str, str], what: str) -> tuple[float, float, int, bytes, bytes]:
    """Run a command to its exit: (wall seconds, peak RSS MiB of its process tree, exit code, stdout, stderr)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    memory = PeakRSS(proc.pid)
    try:
        out, err = proc.communicate(timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        memory.stop()
        raise BenchError(f"{what} took more than {BUILD_TIMEOUT} s") from None
    return time.perf_counter() - started, memory.stop(), proc.returncode, out, err


def run_cli(args: list[str], root: Path, env: dict[str, str]) -> Sample:
    """One cold `python build.py ARGS --root ROOT`, timed from start to exit; fails on a non-zero exit."""
    seconds, peak, code, out, err = timed([PYTHON, str(BUILD_PY), *args, "--root", str(root)], root, env,
                                          " ".join(args))
    if code != 0:
        tail = "\n".join((err or out).decode("utf-8", "replace").strip().splitlines()[-15:])
        raise BenchError(f"`build.py {' '.join(args)}` exited with {code}:\n{tail}")
    lines = (err or out).decode("utf-8", "replace").strip().splitlines()
    return Sample(seconds, peak, lines[-1] if lines else "")


def set_aside(path: Path, trash: Path) -> None:
    """Move a file or folder into the benchmark's trash folder (deleted with everything at the end).

    Not deleted now: on ext4 without a journal (this kind of machine) the kernel
    avoids reusing an inode for one to five minutes after its file is deleted, and
    each file created meanwhile scans past every such inode. Deleting 10 000 files
    just before a timed build made that build's file creation up to 5x slower, a
    cost a fresh clone never pays. The trash is deleted after the last timed run.
    """
    if not os.path.lexists(path):
        return
    trash.mkdir(exist_ok=True)
    os.rename(path, tempfile.mkdtemp(prefix=f"{path.name.lstrip('.')}-", dir=trash) + "/x")


def clean(root: Path) -> None:
    """Set aside every output and cache of earlier builds (a symbolic link is moved, not followed)."""
    for name in ("site", ".builds", ".cache", ".preview"):
        # wait_quiet ran first: no detached helper is still writing there
        set_aside(root / name, root.parent / TRASH)


def wait_quiet(root: Path) -> None:
    """Wait until nothing of the last build is still at work on the trees: its lock is free and no
    old tree is left being deleted.

    The generator's commands are done when they return; earlier versions left detached helpers
    (a spare-tree copier, a background delete) that would have competed with the next timed run.
    """
    deadline = time.monotonic() + QUIET_TIMEOUT
    builds = root / ".builds"
    for lock in builds.glob("*/lock") if builds.is_dir() else ():
        with open(lock) as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            fcntl.flock(handle, fcntl.LOCK_UN)
    while time.monotonic() < deadline:
        if not builds.is_dir() or not any(p.name.startswith("old-") or p.name == "spare.partial"
                                          for d in builds.iterdir() if d.is_dir() for p in d.iterdir()):
            return
        time.sleep(0.02)


def count_pages(site: Path) -> int:
    """.html files in the built site (site/ is a symbolic link to the current tree)."""
    top = os.path.realpath(site)
    return sum(1 for _, _, files in os.walk(top) for name in files if name.endswith(".html"))


def complete_corpus(content: Path) -> list[str]:
    """Copy the repository's top-level data files that bench/corpus.py does not write (yet).

    The generator may require a data file newer than the corpus generator
    (content/accessibility.yaml, say); the repository's own copy stands in.
    """
    copied = []
    for source in sorted((ROOT / "content").glob("*.yaml")):
        target = content / source.name
        if not target.exists():
            shutil.copyfile(source, target)
            copied.append(source.name)
    return copied


def fi_files(content: Path, seed: int) -> list[Path]:
    """The Finnish response files in a fixed, shuffled order: each change takes the next one."""
    files = sorted(content.glob("*/*.fi.md"))
    random.Random(seed).shuffle(files)
    return files


def append_sentence(path: Path, sentence: str) -> None:
    """Add one sentence to a response body, as a paragraph of its own (after a list it stays out of it)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"\n{sentence}\n")


def section_url(port: int, path: Path) -> str:
    """The preview URL of the section page a response file appears on: <section>-<unit>.fi.md."""
    year = path.parent.name
    section = path.name.split("-", 1)[0]
    return f"http://127.0.0.1:{port}/fi/{year}/{section}/index.html"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str, timeout: float = 5.0) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own local server)
            return response.read()
    except (urllib.error.URLError, OSError, ValueError):
        return None


# -- detecting optional features ---------------------------------------------------------------------


def _code_without_comments_and_docstrings(path: Path) -> str:
    """A module's source with comments, docstrings and other bare string statements removed."""
    import ast
    import io
    import tokenize

    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text)
        lines = text.splitlines(keepends=True)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                for i in range(node.lineno - 1, node.end_lineno or node.lineno):
                    lines[i] = "\n"
        text = "".join(lines)
        return "".join(tok.string + " " for tok in tokenize.generate_tokens(io.StringIO(text).readline)
                       if tok.type != tokenize.COMMENT)
    except (SyntaxError, tokenize.TokenError):
        return text


@dataclass
class SearchStep:
    switch: bool
    """The generator reads SITEGEN_SEARCH (0 turns the index off)."""
    where: list[str]
    """Where a search step (Pagefind) was found."""
    command: list[str] | None
    """A way to run the indexer on its own, if one is installed."""

    @property
    def exists(self) -> bool:
        return self.switch or bool(self.where)


def detect_search() -> SearchStep:
    switch = any(SEARCH_SWITCH in p.read_text(encoding="utf-8") for p in (ROOT / "sitegen").glob("*.py"))
    where = [f"sitegen/{p.name}" for p in sorted((ROOT / "sitegen").glob("*.py"))
             if "pagefind" in _code_without_comments_and_docstrings(p).lower()]
    makefile = ROOT / "Makefile"
    if makefile.is_file():
        recipes = [line for line in makefile.read_text(encoding="utf-8").splitlines()
                   if line.startswith("\t") and "pagefind" in line.lower()]
        if recipes:
            where.append("Makefile")
    command: list[str] | None = None
    if subprocess.run([PYTHON, "-c", "import pagefind"], capture_output=True).returncode == 0:
        command = [PYTHON, "-m", "pagefind"]  # what sitegen/search.py runs
    elif shutil.which("pagefind"):
        command = [shutil.which("pagefind") or "pagefind"]
    return SearchStep(switch, where, command)


def code_state() -> str:
    """A digest of the generator's code and templates, to notice edits made while the benchmark runs."""
    h = hashlib.sha256()
    for top in (ROOT / "sitegen", ROOT / "templates"):
        for path in sorted(top.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(ROOT).as_posix().encode())
                h.update(path.read_bytes())
    for name in ("build.py", "schema.yaml"):
        if (ROOT / name).is_file():
            h.update((ROOT / name).read_bytes())
    return h.hexdigest()[:12]


# -- the scenarios ------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def repeat(row: Row, runs: int, prepare, args: list[str], root: Path, env: dict[str, str]) -> Row:
    for i in range(runs):
        wait_quiet(root)  # anything of the last run still at work, before prepare touches the trees
        prepare(i)
        wait_quiet(root)
        sample = run_cli(args, root, env)
        row.samples.append(sample)
        log(f"  {row.scenario:<22} run {i + 1}/{runs}: {sample.seconds:.3f} s, {sample.peak_mib:.0f} MiB"
            f"  | {sample.said}")
    return row


def bench_size(n: int, runs: int, base: Path, search: SearchStep, seed: int, one_year: bool = False) -> list[Row]:
    root = base / f"n{n}"
    root.mkdir()
    started = time.perf_counter()
    summary = generate(root, n, seed, years=1 if one_year else None)
    copied = complete_corpus(root / "content")
    os.sync()  # the corpus on disk before the first timed run, not written back during it
    log(f"N={n}: corpus of {summary['files']} files, {summary['bytes'] / 1e6:.1f} MB, "
        f"years {summary['years'][0]}–{summary['years'][-1]}, in {time.perf_counter() - started:.1f} s ({root})"
        + (f"; copied from the repository's content/: {', '.join(copied)}" if copied else ""))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITEGEN_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    build_env = dict(env)
    build_env[PDF_SWITCH] = "0"
    if search.switch:
        build_env[SEARCH_SWITCH] = "0"
    changes = iter(fi_files(root / "content", seed + n))
    rows: list[Row] = []

    # 1. full clean build
    full = repeat(Row(n, "full clean build"), runs, lambda i: clean(root), ["build"], root, build_env)
    full.pages = count_pages(root / "site")
    rows.append(full)

    # 2. rebuild with nothing changed
    rebuild = repeat(Row(n, "rebuild, no change"), runs, lambda i: None, ["build"], root, build_env)
    rebuild.pages = full.pages
    rows.append(rebuild)

    # 3. rebuild after one response body changed
    def change(i: int) -> None:
        append_sentence(next(changes), f"Vertailuajon lisälause {n}-{i + 1}-{random.Random(i).randrange(10**6)}.")

    one = repeat(Row(n, "rebuild, one change"), runs, change, ["build"], root, build_env)
    one.pages = count_pages(root / "site")
    rows.append(one)

    # 4. check, cold and warm
    def drop_cache(i: int) -> None:
        set_aside(root / ".cache", root.parent / TRASH)

    rows.append(repeat(Row(n, "check, cold cache"), runs, drop_cache, ["check"], root, env))
    log("  (a build to warm the cache again; not timed)")
    wait_quiet(root)
    run_cli(["build"], root, build_env)
    rows.append(repeat(Row(n, "check, warm cache"), runs, lambda i: None, ["check"], root, env))

    # 5. the search index on its own
    rows.append(bench_search(n, runs, root, search, env, full))

    # 6. preview latency
    rows.append(bench_preview(n, runs, root, env, changes))
    return rows


def bench_search(n: int, runs: int, root: Path, search: SearchStep, env: dict[str, str], full: Row) -> Row:
    row = Row(n, "search index")
    if not search.exists:
        row.note = NOT_BUILT
        return row
    if search.command is not None:  # the indexer itself, over the site just built
        site = Path(os.path.realpath(root / "site"))
        for i in range(runs):
            set_aside(site / "pagefind", root.parent / TRASH)
            command = [*search.command, "--site", str(site), "--output-subdir", "pagefind", "--silent"]
            seconds, peak, code, _, err = timed(command, root, env, "the search indexer")
            if code != 0:
                row.note = f"indexer failed ({code}): {err.decode('utf-8', 'replace').strip()[-200:]}"
                return row
            row.samples.append(Sample(seconds, peak))
            log(f"  {row.scenario:<22} run {i + 1}/{runs}: {seconds:.3f} s, {peak:.0f} MiB")
        row.note = "`" + " ".join(Path(search.command[0]).name if j == 0 else a
                                  for j, a in enumerate(search.command)) + " --site site/`, alone"
        return row
    if search.switch:  # no indexer to call directly: a clean build with search on, minus one without
        with_search = Row(n, "full clean build, search on")
        env_on = dict(env, **{SEARCH_SWITCH: "1", PDF_SWITCH: "0"})
        try:
            repeat(with_search, runs, lambda i: clean(root), ["build"], root, env_on)
        except BenchError as exc:
            row.note = f"the build with {SEARCH_SWITCH}=1 failed: {str(exc).splitlines()[-1][:150]}"
            return row
        peak = max(s.peak_mib for s in with_search.samples)
        row.seconds = median(with_search) - median(full)
        row.note = (f"clean build with {SEARCH_SWITCH}=1 minus =0; with search: {median(with_search):.2f} s, "
                    f"peak {peak:.0f} MiB")
        return row
    row.note = f"a search step exists ({', '.join(search.where)}) but no way to run it alone was found"
    return row


def bench_preview(n: int, runs: int, root: Path, env: dict[str, str], changes) -> Row:
    row = Row(n, "preview latency")
    port = free_port()
    logfile = root.parent / f"serve-{n}.log"
    command = [PYTHON, str(BUILD_PY), "serve", "--port", str(port), "--root", str(root)]
    wait_quiet(root)
    with open(logfile, "wb") as log_handle:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=root, env=env, stdout=log_handle, stderr=subprocess.STDOUT,
                                start_new_session=True)
        memory = PeakRSS(proc.pid)
        try:
            deadline = time.monotonic() + SERVE_START_TIMEOUT
            while fetch(f"http://127.0.0.1:{port}/", timeout=2) is None:
                if proc.poll() is not None:
                    raise BenchError(f"the preview server exited with {proc.returncode}:\n"
                                     + logfile.read_text(encoding="utf-8", errors="replace")[-1500:])
                if time.monotonic() > deadline:
                    raise BenchError(f"the preview server did not serve / within {SERVE_START_TIMEOUT} s")
                time.sleep(0.05)
            log(f"  preview serving on port {port} after {time.perf_counter() - started:.1f} s")
            time.sleep(0.5)  # let the watcher settle after the first build
            for i in range(runs):
                path = next(changes)
                url = section_url(port, path)
                before = fetch(url)
                if before is None:
                    raise BenchError(f"{url} is not served before the change")
                marker = f"Esikatselumerkki{n}x{i + 1}x{random.Random(n * 100 + i).randrange(16**8):08x}"
                append_sentence(path, f"{marker} on uusi lause.")
                written = time.perf_counter()
                deadline = time.monotonic() + PREVIEW_TIMEOUT
                while True:
                    body = fetch(url)
                    seen = time.perf_counter()
                    if body is not None and marker.encode() in body:
                        break
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise BenchError(f"{url} never showed the change ({marker}) within {PREVIEW_TIMEOUT} s")
                    time.sleep(POLL_EVERY)
                row.samples.append(Sample(seen - written, 0.0))
                log(f"  {row.scenario:<22} run {i + 1}/{runs}: {seen - written:.3f} s "
                    f"({path.parent.name}/{path.name})")
                time.sleep(0.3)  # let livereload's reload and the log settle before the next change
        finally:
            peak = memory.peak_mib
            stop(proc)
            memory.stop()
    for sample in row.samples:
        sample.peak_mib = peak  # the server's whole life, its first build included
    return row


def stop(proc: subprocess.Popen) -> None:
    """Terminate the server (and its session's workers), then kill what is left."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: only what it started
    except (ProcessLookupError, PermissionError):
        pass


# -- output ------------------------------------------------------------------------------------------------


def median(row: Row) -> float:
    return statistics.median(s.seconds for s in row.samples)


def seconds(x: float) -> str:
    return f"{x:.3f}" if abs(x) < 10 else f"{x:.2f}" if abs(x) < 100 else f"{x:.1f}"


def table(rows: list[Row]) -> str:
    lines = ["| N | scenario | median s | min s | max s | peak RSS MiB | pages/s |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        n = f"{r.n:,}".replace(",", " ")
        if r.samples:
            times = [s.seconds for s in r.samples]
            peak = max(s.peak_mib for s in r.samples)
            med = statistics.median(times)
            rate = f"{r.pages / med:,.0f}".replace(",", " ") if r.pages and r.scenario == "full clean build" else "–"
            name = r.scenario + (f" ({r.note})" if r.note else "")
            lines.append(f"| {n} | {name} | {seconds(med)} | {seconds(min(times))} | {seconds(max(times))} "
                         f"| {peak:.0f} | {rate} |")
        elif r.seconds is not None:
            lines.append(f"| {n} | {r.scenario} ({r.note}) | {seconds(r.seconds)} | – | – | – | – |")
        else:
            lines.append(f"| {n} | {r.scenario} | {r.note} | | | | |")
    return "\n".join(lines)


def peers_table() -> str:
    lines = ["Measured by others on the same kind of machine (figures from the issue, not re-measured here; "
             "median seconds):", "",
             "| N | scenario | tool | median s | note |", "| ---: | --- | --- | ---: | --- |"]
    for n, scenario, tool, value, note in PEERS:
        lines.append(f"| {n:,} | {scenario} | {tool} | {value:g} | {note} |".replace(",", " ", 1))
    return "\n".join(lines)


def machine() -> str:
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return (f"Machine: {cores} cores ({usable} usable by this process), "
            f"Python {platform.python_version()} ({platform.python_implementation()}), "
            f"{platform.system()} {platform.release()} {platform.machine()}")


def speed_check() -> float:
    """Seconds for a fixed pure-Python loop (the best of three): the machine's speed at the time.

    On a shared virtual machine the same work takes up to 1.7x longer from one
    half-hour to the next; printed before and after the runs, this says which
    figures were taken on a slow spell.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Time the generator's builds, checks and preview on synthetic corpora.")
    p.add_argument("--sizes", default="100,1000,10000",
                   help="response-file counts (even), comma-separated (default 100,1000,10000)")
    p.add_argument("--runs", type=int, default=3, help="runs per scenario; the table shows their median (default 3)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md",
                   help="where to write the Markdown results (default bench/results.md)")
    p.add_argument("--seed", type=int, default=2022, help="the corpus seed (default 2022)")
    p.add_argument("--one-year", action="store_true",
                   help="put every response in one report year (the worst case for per-year work)")
    args = p.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "").replace(" ", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error(f"--sizes: expected numbers separated by commas, not {args.sizes!r}")
    if not sizes or any(s <= 0 or s % 2 for s in sizes):
        p.error("--sizes: every size must be an even number > 0 (half Finnish, half Swedish files)")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    if not Path("/proc/self/status").is_file():
        p.error("this benchmark reads /proc for memory: it runs on Linux")

    header = machine()
    print(header, flush=True)
    search = detect_search()
    log(f"search step: {'found in ' + ', '.join(search.where) if search.where else 'none found'}; "
        f"{SEARCH_SWITCH} switch: {'yes' if search.switch else 'no'}; "
        f"indexer: {' '.join(search.command) if search.command else 'none installed'}")
    state = code_state()
    speed_before = speed_check()
    log(f"speed check: a fixed loop took {speed_before:.3f} s")
    base = Path(tempfile.mkdtemp(prefix="sitegen-bench-"))
    if ROOT in base.resolve().parents:
        raise SystemExit(f"the temporary folder {base} is inside the repository; set TMPDIR elsewhere")
    rows: list[Row] = []
    failure = ""
    started = time.perf_counter()
    try:
        for n in sizes:
            try:
                rows += bench_size(n, args.runs, base, search, args.seed, args.one_year)
            except BenchError as exc:
                failure = f"N={n}: {exc}"
                log(f"error: {failure}")
                break
    except KeyboardInterrupt:
        failure = "interrupted"
    finally:
        shutil.rmtree(base, ignore_errors=True)
    elapsed = time.perf_counter() - started
    speed_after = speed_check()

    notes = [header, f"Runs per scenario: {args.runs}. Builds run as `{Path(PYTHON).name} build.py … --root DIR`, "
             f"a cold process each; {'every response in one year; ' if args.one_year else ''}"
             f"{SEARCH_SWITCH}=0 for builds: {'yes' if search.switch else 'no (no such switch)'}. "
             f"Code and templates: {state}. Total benchmark time {elapsed:.0f} s. "
             f"Speed check (a fixed Python loop, best of three; lower is faster): {speed_before:.3f} s before the "
             f"runs, {speed_after:.3f} s after."]
    if code_state() != state:
        notes.append("**Warning:** sitegen/ or templates/ changed while the benchmark ran; "
                     "the figures may mix versions of the generator.")
    if failure:
        notes.append(f"**Stopped early:** {failure.splitlines()[0]}")
    body = "\n\n".join([*notes[1:], table(rows), worst_cases_table(base), peers_table()]) + "\n"
    text = notes[0] + "\n\n" + body
    print()
    print(body, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    log(f"wrote {args.out}")
    return 1 if failure else 0


def worst_cases(filler: str = "Tavallinen lause kappaleessa. ") -> dict[str, str]:
    """Bodies just under every limit validate sets (accepted), and just over some (refused):
    {label: body}. Each accepted body is as large as the file limit allows."""
    sys.path.insert(0, str(ROOT))
    from sitegen.validate import (
        MAX_ANGLES,
        MAX_BRACKETS,
        MAX_CODE_MARKS,
        MAX_EMPHASIS,
        MAX_ENTITIES,
        MAX_ESCAPES,
        MAX_LINES,
        MAX_MARKUP,
        MAX_NESTING,
    )

    plain = (filler * 30 + "\n\n") * 900  # ~0.84 MB of ordinary text around the dense part
    tokens = (["\\."] * MAX_ESCAPES + ["&amp;"] * MAX_ENTITIES + ["**a**"] * (MAX_EMPHASIS // 4)
              + ["`a`"] * (MAX_CODE_MARKS // 2) + ["[a](https://a.fi)"] * MAX_BRACKETS
              + ["<https://a.fi>"] * MAX_ANGLES)
    every_kind = "".join(tokens)
    kinds = MAX_ESCAPES + MAX_ENTITIES + MAX_EMPHASIS + MAX_CODE_MARKS + MAX_BRACKETS + MAX_ANGLES
    return {
        f"{MAX_BRACKETS} unclosed '[' in one paragraph (accepted)": "[" * MAX_BRACKETS,
        f"{MAX_BRACKETS + 1} unclosed '[' (refused before rendering)": "[" * (MAX_BRACKETS + 1),
        f"block quotes nested {MAX_NESTING} deep (accepted)": ">" * MAX_NESTING + " syvä",
        "lists nested 1 000 deep on one line, `- - - … x` (refused)": "- " * 1000 + "x",
        "a 0.9 MB body of plain paragraphs (accepted)": (filler * 30 + "\n\n") * 1000,
        f"{MAX_MARKUP // (2 * MAX_ESCAPES)} paragraphs of {MAX_ESCAPES} '\\*' escapes in 0.9 MB (accepted)":
            ("\\*" * MAX_ESCAPES + "\n\n") * (MAX_MARKUP // (2 * MAX_ESCAPES)) + plain,
        f"{MAX_MARKUP // MAX_ENTITIES} paragraphs of {MAX_ENTITIES} '&amp;' in 0.9 MB (accepted)":
            ("&amp;" * MAX_ENTITIES + "\n\n") * (MAX_MARKUP // MAX_ENTITIES) + plain,
        f"{MAX_MARKUP // MAX_EMPHASIS} paragraphs of {MAX_EMPHASIS // 4} '**a**' in 0.9 MB (accepted)":
            ("**a**" * (MAX_EMPHASIS // 4) + "\n\n") * (MAX_MARKUP // MAX_EMPHASIS) + plain,
        f"{MAX_MARKUP // MAX_BRACKETS} paragraphs of {MAX_BRACKETS} unclosed '[' in 0.9 MB (accepted)":
            ("[a " * MAX_BRACKETS + "\n\n") * (MAX_MARKUP // MAX_BRACKETS) + plain,
        f"{MAX_MARKUP // kinds} paragraphs with every kind at its limit in 0.9 MB (accepted)":
            (every_kind + "\n\n") * (MAX_MARKUP // kinds) + plain,
        "one 0.95 MB paragraph with every kind at its limit (accepted)":
            "".join(filler * 30 + token for token in tokens),
        f"{MAX_LINES - 1} rules '---' in one paragraph (accepted)": "---\n" * (MAX_LINES - 1),
        f"{(MAX_LINES - 1) // 2} setext headings in one paragraph (accepted)": "a\n=\n" * ((MAX_LINES - 1) // 2),
        f"{MAX_LINES - 1} one-cell table rows (accepted)": "|\n" * (MAX_LINES - 1),
        f"{MAX_LINES - 1} line breaks 'a  ' in one paragraph (accepted)": "a  \n" * (MAX_LINES - 1),
        "961 KB of '\\*' (refused; took 506 s before the limits)": "\\*" * 480_000,
        "587 KB of '**a**' (refused; took 37 s before the limits)": "**a**" * 117_000,
    }


def worst_cases_table(base: Path) -> str:
    """Time `check` and `build` on the worst Markdown the validator still accepts, and on what it refuses.

    Python-Markdown's inline stage is quadratic in the characters that start its patterns
    (escapes, entities, emphasis, code, brackets, '<') within a paragraph, its block stage costs
    per line (some quadratically per paragraph) and it recurses per nesting level: the
    validator's limits (validate.MAX_*, load.MAX_FILE_BYTES) keep the renderer fast. The tests
    check the limits by their outcome; the time and the peak memory are measured here.
    """
    sys.path.insert(0, str(ROOT))
    from sitegen.load import MAX_FILE_BYTES

    lines = ["Worst cases (one response file in the minimal fixture site; a cold `build`: wall seconds "
             "and the peak resident memory of the process):", "",
             "| input | exit | seconds | peak MiB |", "| --- | ---: | ---: | ---: |"]
    for label, body in worst_cases().items():
        site = base / "worst"
        shutil.rmtree(site, ignore_errors=True)
        shutil.copytree(ROOT / "tests" / "sites" / "minimal", site)
        target = site / "content" / "2021" / "2.2-tilapalvelut-liikelaitos.fi.md"
        text = '---\nsection: "2.2"\nunit: tilapalvelut-liikelaitos\n---\n\n' + body + "\n"
        assert len(text.encode()) < MAX_FILE_BYTES, label
        target.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        child = subprocess.Popen([PYTHON, str(ROOT / "build.py"), "build", "--root", str(site)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env={**os.environ, SEARCH_SWITCH: "0", PDF_SWITCH: "0"})
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        lines.append(f"| {label} | {code} | {seconds:.2f} | {usage.ru_maxrss / 1024:.0f} |")
    shutil.rmtree(base / "worst", ignore_errors=True)
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
