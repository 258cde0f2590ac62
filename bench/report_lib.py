"""What bench/report.py, large_report.py and profile_report.py share (stdlib only).

They are run as scripts (python3 bench/report.py ...), so this directory is on
sys.path and `import report_lib` finds this file.
"""
import csv
import os

# A generated page keeps the text between these markers across reruns, so
# analysis written by hand survives.
NOTES_BEGIN = "<!-- notes:begin -->"
NOTES_END = "<!-- notes:end -->"
MiB = 1 << 20


def read_meta(path, missing_ok=False):
    """meta.tsv (one "key<TAB>value" per line) as a dict; {} for a missing file if missing_ok."""
    meta = {}
    if missing_ok and not os.path.exists(path):
        return meta
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            meta[key] = value
    return meta


def read_tsv(path, missing_ok=False):
    """A TSV file with a header line as a list of dicts; [] for a missing file if missing_ok."""
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f, delimiter="\t"))
    except FileNotFoundError:
        if missing_ok:
            return []
        raise


def num(value, default=None):
    """value as a float, or default when it is missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def mib(b, digits=0):
    """Bytes as MiB with thousands separators; "?" for None."""
    return "?" if b is None else f"{b / MiB:,.{digits}f}"


def between(text, begin, end):
    """(start, stop) of the text between markers begin and end, or None."""
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        return None
    return i + len(begin), j


def old_notes(doc_path, default):
    """The notes section of an existing page, or default."""
    try:
        text = open(doc_path).read()
    except FileNotFoundError:
        return default
    span = between(text, NOTES_BEGIN, NOTES_END)
    if span is None:
        return default
    return text[span[0] : span[1]].strip("\n") or default


def notes_section(lines, doc_path, default):
    """Append the "## Notes" section, carrying over the notes of the existing page."""
    lines.extend(["## Notes", "", NOTES_BEGIN, old_notes(doc_path, default), NOTES_END, ""])


def md_row(*cells):
    """One Markdown table row."""
    return "| " + " | ".join(cells) + " |"


def md_head(first, names):
    """Header and rule of a table: a text column, then one numeric column per name."""
    return [md_row(first, *names), "|---|" + "---:|" * len(names)]


def write_page(doc_path, lines):
    """Replace doc_path with lines (joined by newlines) in one step: a failed
    run never leaves half a page."""
    tmp = doc_path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp, doc_path)
