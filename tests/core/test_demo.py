"""`clusterbot demo` (issue 13): Myanmar data, and it always cleans up, whatever signal stops it.

The signal tests start the real demo as a subprocess (a throwaway Synapse, the bot, its
screening worker), wait until it is up, signal it, then check that no process it started is
left and that its folder (master key, bot password, databases) is gone."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.demo import BENEFICIARY_CSV
from bot.devserver import synapse_installed


def test_demo_data_is_myanmar_and_held() -> None:
    from bot.screening import screen_bytes

    text = BENEFICIARY_CSV.decode()
    assert "+234" not in text and "Gwoza" not in text
    assert text.count("+95 9 ") == 3 and "Sittwe" in text
    names = re.findall(r"^([^,]+),\+95", text, re.MULTILINE)
    assert len(names) == 3 and all(n.split()[0] in ("U", "Daw", "Ma", "Ko") for n in names)  # Burmese honorifics
    v = screen_bytes(BENEFICIARY_CSV, "sittwe_beneficiaries.csv")
    assert v.verdict == "unlabelled_sensitive" and v.required_level == "highly_confidential"
    assert {"person_name", "phone_number", "date_of_birth"} <= set(v.categories)


# ---------------------------------------------------------------------------- signals


def _children() -> dict[int, int]:
    """pid -> parent pid, from /proc."""
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        out[int(entry)] = int(fields[1])
    return out


def _descendants(pid: int) -> set[int]:
    parents = _children()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier and p not in found}
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def _started_under(tmp_path: Path) -> set[int]:
    """Every live process whose environment carries our TMPDIR: the demo and all it started,
    orphans included (Synapse runs in its own session, so a process-group scan would miss it)."""
    marker = f"TMPDIR={tmp_path}".encode()
    found: set[int] = set()
    for pid in _children():
        try:
            if marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") and _alive(pid):
                found.add(pid)
        except OSError:
            continue
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class _Reader(threading.Thread):
    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []

    def run(self) -> None:
        for line in self.stream:
            self.lines.append(line)

    def wait_for(self, text: str, proc: subprocess.Popen[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"the demo never printed {text!r}:\n" + "".join(self.lines))


@pytest.mark.e2e
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="scans /proc")
@pytest.mark.skipif(not synapse_installed(), reason="matrix-synapse not installed (the demo extra)")
@pytest.mark.parametrize(
    ("sig", "keep", "up_when", "code"),
    [
        (signal.SIGINT, True, "The homeserver stays up", 0),  # Ctrl-C after --keep
        (signal.SIGTERM, True, "The homeserver stays up", 0),
        (signal.SIGTERM, False, "[sends file", 128 + signal.SIGTERM),  # in the middle of the script
    ],
    ids=["keep-sigint", "keep-sigterm", "midway-sigterm"],
)
def test_demo_cleans_up_whatever_signal_stops_it(
    tmp_path: Path, sig: signal.Signals, keep: bool, up_when: str, code: int
) -> None:
    env = dict(os.environ, TMPDIR=str(tmp_path), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", *(["--keep"] if keep else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    out = _Reader(proc.stdout)
    out.start()
    started: set[int] = set()
    try:
        out.wait_for(up_when, proc, timeout=240)
        time.sleep(1.0 if keep else 0.0)
        started = _descendants(proc.pid)
        names = " | ".join(_cmdline(p) for p in started)
        assert "synapse.app.homeserver" in names, names
        if keep:
            assert "spawn_main" in names, names  # the screening worker
        base = Path(re.search(r"homeserver in (\S+) \.\.\.", "".join(out.lines)).group(1))  # type: ignore[union-attr]
        assert base.is_dir() and base.parent == tmp_path
        if keep:
            assert (base / "bot" / "master.key").exists() and (base / "bot" / "bot.sqlite3").exists()
        proc.send_signal(sig)
        assert proc.wait(timeout=90) == code, "".join(out.lines)
        out.join(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in started):
            time.sleep(0.2)
        left = {p: _cmdline(p) for p in started | _started_under(tmp_path) if _alive(p)}
        assert not left, f"processes left behind: {left}"
        assert not base.exists(), f"{base} left behind: {sorted(x.name for x in base.iterdir())}"
        assert not list(tmp_path.glob("clusterbot-demo-*"))
        assert "Traceback" not in "".join(out.lines)
        if keep:  # it said where its folder was, and that it holds secrets
            assert "holds secrets" in "".join(out.lines) and str(base) in "".join(out.lines)
    finally:
        for p in started | _started_under(tmp_path) | ({proc.pid} if proc.poll() is None else set()):
            if _alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if proc.poll() is None:
            proc.wait(timeout=10)
