"""The command line: `python build.py [build|check|…]`: parses, runs a command, prints its outcome."""

from __future__ import annotations

import argparse
import errno
import gc
import json
import os
import sys
import traceback
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from . import pdf, pipeline, translations
from .errors import Problem, errors, format_problems
from .load import language_codes
from .progress import Bar
from .progress import wanted as bar_wanted

EXIT_OK, EXIT_CONTENT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per task."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=Path("."),
                        help="the project folder holding content/ (default: the current folder)")
    common.add_argument("--format", choices=("text", "github", "json"), default="text",
                        help="how problems are printed: text for people (default), github for "
                             "workflow annotations, json for tools")
    common.add_argument("--strict", action="store_true",
                        help="treat every warning (e.g. a missing translation) as an error")
    p = argparse.ArgumentParser(
        prog="build.py",
        description="Build the website of Espoo's responses to the audit committee's evaluation report.",
        epilog="Exit status: 0 success (warnings allowed), 1 content errors, 2 wrong usage, 3 internal failure.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    b = sub.add_parser("build", parents=[common], help="validate the content and build site/ (the default)")
    b.add_argument("--base-url", help="the absolute URL the site is published at (overrides content/site.yaml)")
    b.add_argument("--no-search", action="store_true",
                   help="skip the search index: a quicker local build (search then finds nothing; "
                        "SITEGEN_SEARCH=0 does the same)")
    b.add_argument("--no-pdf", action="store_true",
                   help="leave out the print edition (the PDFs), for a quick build; the same as SITEGEN_PDF=0")
    sub.add_parser("check", parents=[common], help="validate the content without writing anything")
    sv = sub.add_parser("serve", parents=[common],
                        help="preview with live reload (drafts shown; errors shown in the browser)")
    sv.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    nw = sub.add_parser("new", parents=[common], help="write a draft response file to fill in")
    nw.add_argument("--year", required=True, help="the report year, e.g. 2022")
    nw.add_argument("--section", required=True, help="the section number, e.g. 2.4")
    nw.add_argument("--unit", required=True, help="the unit id from content/units.yaml")
    nw.add_argument("--lang", help="a translation's language, e.g. sv (default: the original language)")
    tr = sub.add_parser("translated", parents=[common],
                        help="record that translations are up to date with their originals (writes source_digest)")
    tr.add_argument("files", nargs="+", type=Path,
                    help="translated files, e.g. content/2022/2.4-konsernihallinto.sv.md")
    tr.add_argument("--reviewed", action="store_true", help="also mark the translations as reviewed by the city")
    st = sub.add_parser("status", help="list every response's translation state per year (up to date, stale, "
                        "missing)")  # a listing, not a check: no --strict, no workflow annotations
    st.add_argument("--root", type=Path, default=Path("."),
                    help="the project folder holding content/ (default: the current folder)")
    st.add_argument("--format", choices=("text", "json"), default="text",
                    help="text for people (default), json for tools")
    im = sub.add_parser("import", parents=[common], help="turn the compiled responses document (.docx or text) "
                        "into draft response files", description="Read the compiled responses document (Word .docx, "
                        "or text laid out like it): its numbered headings ('2.4 Kaupungin toimialojen ICT-hankkeet'), "
                        "its unit lines ('Vastaaja: Konsernihallinto') and the text between them. Writes one draft "
                        "file per response, and content/YEAR/report.yaml when the year has none. Never overwrites a "
                        "file without --force; writes nothing if there is any error.")
    im.add_argument("file", type=Path, metavar="FILE", help="the document: .docx, or UTF-8 text (e.g. from a PDF)")
    im.add_argument("--year", required=True, help="the report year, e.g. 2023")
    im.add_argument("--lang", help="the document's language when it is a translation, e.g. sv: each response "
                    "becomes <section>-<unit>.sv.md beside its original (default: the original language)")
    im.add_argument("--dry-run", action="store_true", help="show what would be written (on stdout), write nothing")
    im.add_argument("--force", action="store_true",
                    help="replace the text of existing files that differ (their front matter is kept)")
    ex = sub.add_parser("export", parents=[common], help="write a Word document of the texts to translate",
                        description="Write a Word document of the original texts for the translator, with the "
                        "Swedish review's terminology (content/terminology.yaml) at the end. The translated "
                        "document, returned with the same headings and 'Vastaaja:' lines, is read back with "
                        "`import --lang LANG`.")
    ex.add_argument("out", type=Path, metavar="OUT.docx", help="the Word document to write")
    ex.add_argument("--lang", required=True, help="the language to translate into, e.g. sv")
    ex.add_argument("--year", help="the report year (default: the latest)")
    ex.add_argument("--changed", action="store_true", help="only the texts with no translation or an outdated one, "
                    "each outdated one with what changed in the original since")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or args_list[0].startswith("-") and args_list[0] not in ("-h", "--help"):
        args_list.insert(0, "build")
    try:
        args = parser().parse_args(args_list)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    try:
        return COMMANDS[args.command or "build"](pipeline.Project.at(args.root), args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `build.py status | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception:
        print("internal error: this is a bug in the generator, not in your content.", file=sys.stderr)
        print(traceback.format_exc() if os.environ.get("SITEGEN_DEBUG") else
              f"{traceback.format_exc().strip().splitlines()[-1]}\n(set SITEGEN_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_INTERNAL


def batch() -> None:
    """The one place the cyclic garbage collector is dealt with (with `settled` below).

    A command that runs once and exits does without it: it would walk every parsed file
    and page again and again (at 10 000 responses a clean build takes 4.7 s without it,
    5.1 s with it, and its largest process is no bigger), and the exit frees everything
    anyway. Forked workers inherit this. The preview server, which runs for hours, keeps
    the collector but calls `settled` after each rebuild.
    """
    gc.disable()


def settled() -> None:
    """What the preview's warm session keeps lives as long as the server: frozen, the collector
    stops walking it (a full pass over it took 0.2-0.3 s of some rebuilds at 10 000 responses)."""
    gc.freeze()


def check(project: pipeline.Project, args: argparse.Namespace) -> int:
    """Validate the content without writing anything."""
    batch()
    result = pipeline.check(project, strict=args.strict)
    report(result.problems, args.format, _color(args))
    responses = result.loaded.responses if result.loaded else ()
    drafts = sum(1 for r in responses if r.draft)
    summary(f"Checked {len(responses)} response files in {result.timings['check']:.2f} s: "
            f"{_count(result.problems)}; {drafts} draft{'s' if drafts != 1 else ''}.", args.format)
    return EXIT_CONTENT if result.failed else EXIT_OK


def serve(project: pipeline.Project, args: argparse.Namespace) -> int:
    """Preview with live reload until interrupted."""
    from . import serve as preview  # the server's dependencies load only when needed

    try:
        if not preview.port_taken(args.host, args.port):
            preview.serve(project, host=args.host, port=args.port, settle=settled)
            return EXIT_OK
    except OSError as exc:  # taken between the test and the start
        if exc.errno != errno.EADDRINUSE:
            raise
    print(f"build.py serve: error: port {args.port} is taken (another preview or program is using it); "
          f"choose another with --port, e.g. --port {args.port + 1}", file=sys.stderr)
    return EXIT_USAGE


def build(project: pipeline.Project, args: argparse.Namespace) -> int:
    """Validate the content and build site/."""
    batch()
    if getattr(args, "no_pdf", False):
        os.environ[pdf.SWITCH] = "0"  # read in one place: sitegen.pdf.enabled
    base_url = getattr(args, "base_url", None)
    if base_url is not None and not base_url.endswith("/"):
        base_url += "/"

    def run(progress: pipeline.Progress = lambda stage, done, total: None) -> pipeline.Result:
        return pipeline.build(project, base_url=base_url, strict=args.strict, index=not args.no_search,
                              progress=progress)

    if bar_wanted(sys.stderr, args.format):
        with Bar(sys.stderr) as bar:  # on a terminal: stage, count and time left, gone when done
            result = run(bar)
    else:
        result = run()
    report(result.problems, args.format, _color(args))
    if result.failed:
        summary(f"Build failed: {_count(result.problems)}; site/ was left as it was.", args.format)
        return EXIT_CONTENT
    per_lang = result.pages_per_language()
    langs = ", ".join(f"{n} {code}" for code, n in per_lang.items())
    searching = result.timings.get("search")
    w = result.written
    summary(f"Built {sum(per_lang.values())} pages ({langs}) in {result.timings['build']:.2f} s"
            f"{f' + search index {searching:.2f} s' if searching is not None else ''}"
            f"{f'; {w.written} files written, {w.kept} unchanged' if w else ''}; {_count(result.problems)}.",
            args.format)
    return EXIT_OK


def _color(args: argparse.Namespace) -> bool:
    return bool(args.format == "text" and sys.stderr.isatty() and not os.environ.get("NO_COLOR"))


def new(project: pipeline.Project, args: argparse.Namespace) -> int:
    """Scaffold a draft response."""
    from .scaffold import new_response

    result = pipeline.check(project)
    if result.loaded is None:
        report(result.problems, args.format, False)
        return EXIT_CONTENT
    path, problems = new_response(result.loaded, project.templates, args.year, args.section, args.unit, args.lang)
    if problems:
        report(problems, args.format, False)
        # an option naming no year, section, unit or language is wrong usage, not a content error
        return EXIT_USAGE if any(p.path.startswith("--") for p in problems) else EXIT_CONTENT
    assert path is not None
    summary(f"Wrote {path.relative_to(project.root).as_posix()} as a draft: it shows in `python build.py serve` "
            "but is not published until you remove the line 'draft: true'.", args.format)
    return EXIT_OK


def translated(project: pipeline.Project, args: argparse.Namespace) -> int:
    """Record the originals' digests in the given translations."""
    result = pipeline.check(project)
    codes = language_codes(result.loaded.settings) if result.loaded is not None else ()
    if not codes:
        report(result.problems, args.format, False)
        return EXIT_CONTENT
    original = codes[0]
    problems = []
    for path in args.files:
        target = path if path.is_absolute() else Path.cwd() / path
        problem = translations.record(project.root, target, original, reviewed=args.reviewed) if target.is_file() \
            else Problem(str(path), None, "there is no such file; give the path of a translation, e.g. "
                         "content/2022/2.4-konsernihallinto.sv.md")
        if problem is not None:
            problems.append(problem)
        elif args.format == "text":
            print(f"{path}: recorded the digest of its original{' and marked it reviewed' if args.reviewed else ''}",
                  file=sys.stderr)
    report(problems, args.format, False)
    return EXIT_CONTENT if problems else EXIT_OK


def show_status(project: pipeline.Project, args: argparse.Namespace) -> int:
    """Print the translation state of every response, per year."""
    result = pipeline.check(project)
    loaded = result.loaded
    if result.failed or loaded is None or loaded.settings is None:
        report(result.problems, args.format, False)
        return EXIT_CONTENT
    rows = translations.status(loaded, language_codes(loaded.settings))
    if args.format == "json":
        print(json.dumps(translations.as_dicts(rows), ensure_ascii=False, indent=2))
        return EXIT_OK
    for year in sorted({r.year for r in rows}, reverse=True):
        year_rows = [r for r in rows if r.year == year]
        print(f"{year}")
        print(f"  {'section':<8} {'unit':<32} {'lang':<4} {'state':<11} reviewed")
        for r in year_rows:
            print(f"  {r.section:<8} {r.unit:<32} {r.lang:<4} {r.state:<11} {'yes' if r.reviewed else 'no'}")
        counts = Counter(r.state for r in year_rows)
        reviewed = sum(1 for r in year_rows if r.reviewed)
        print(f"  {len(year_rows)} translations: " + ", ".join(
            f"{counts.get(s, 0)} {s}" for s in ("up to date", "stale", "unrecorded", "missing"))
            + f"; {reviewed} reviewed\n")
    return EXIT_OK


def import_document(project: pipeline.Project, args: argparse.Namespace) -> int:
    """Import a compiled responses document as draft response files (see sitegen/importer.py)."""
    from . import importer

    planned = importer.plan(project.root, args.file, str(args.file), args.year, args.lang, args.force)
    if args.strict:
        planned.problems = [p.as_error() for p in planned.problems]
    report(planned.problems, args.format, False)
    if planned.failed:
        summary(f"Import failed: {_count(planned.problems)}; nothing was written.", args.format)
        return EXIT_USAGE if planned.usage else EXIT_CONTENT
    for f in planned.files if args.dry_run and args.format != "json" else ():
        print(f"--- {f.path} ({f.action})\n{f.text}", end="" if f.text.endswith("\n") else "\n")
    problems = [] if args.dry_run else importer.write(project.root, planned)
    report(problems, args.format, False)
    lines, closing = importer.describe(planned, args.dry_run)
    for line in lines if args.format == "text" else ():
        print(line, file=sys.stderr)
    summary(closing, args.format)
    return EXIT_CONTENT if problems else EXIT_OK


def export_document(project: pipeline.Project, args: argparse.Namespace) -> int:
    """Write the Word document of the texts to translate (see sitegen/exporter.py)."""
    from . import exporter

    result = exporter.export(project.root, args.out, args.lang, args.year, args.changed)
    report(result.problems, args.format, False)
    summary(result.summary, args.format)
    return EXIT_USAGE if result.usage else EXIT_CONTENT if result.failed else EXIT_OK


COMMANDS = {"build": build, "check": check, "serve": serve, "new": new, "translated": translated,
            "status": show_status, "import": import_document, "export": export_document}


def report(problems: list[Problem], fmt: str, color: bool) -> None:
    """Print problems to stderr (json to stdout, for tools)."""
    if not problems and fmt != "json":
        return
    text = format_problems(problems, fmt, color)
    print(text, file=sys.stdout if fmt == "json" else sys.stderr)


def summary(line: str, fmt: str) -> None:
    """The one-line summary that ends every command."""
    if fmt != "json":
        print(line, file=sys.stderr)


def _count(problems: list[Problem]) -> str:
    e = len(errors(problems))
    w = len(problems) - e
    return f"{e} error{'s' if e != 1 else ''}, {w} warning{'s' if w != 1 else ''}"
