"""--guideline takes a path, a URL (fetched with a timeout, then cached) or a version name."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from interop_model.errors import InvalidGuideline
from tcup.errors import GuidelineSourceError
from tcup.guideline_source import GuidelineLocation, file_name_for, load_guideline


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files like a collector service: /v1/guidelines/<file> from a folder."""

    def translate_path(self, path: str) -> str:
        name = path.split("?")[0].rsplit("/", 1)[-1]
        root = Path(self.directory)
        for candidate in (root / name, root / "add-ons" / name):
            if candidate.is_file():
                return str(candidate)
        return str(root / "missing")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server(interop_dir: Path) -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(interop_dir)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("2020.06", "2020.06.json"),
        ("next", "next.json"),
        ("dns.2020.06", "dns.2020.06.json"),
        ("2020.06.json", "2020.06.json"),
        ("orchestration.next", "orchestration.next.json"),
        ("latest", None),
        ("../etc/passwd", None),
        ("2020.6", None),
    ],
)
def test_version_names(name: str, file: str | None) -> None:
    assert file_name_for(name) == file


def test_path_dir_and_addons(interop_dir: Path, tmp_path: Path) -> None:
    loc = GuidelineLocation(directory=interop_dir, cache_dir=tmp_path)
    assert load_guideline(str(interop_dir / "2019.11.json"), loc).id == "2019.11"
    assert load_guideline("2020.06", loc).id == "2020.06"
    assert load_guideline("dns.2020.06", loc).id == "dns.2020.06"


def test_url_is_fetched_then_served_from_cache(server: str, tmp_path: Path) -> None:
    loc = GuidelineLocation(cache_dir=tmp_path)
    url = f"{server}/v1/guidelines/2020.06.json"
    assert load_guideline(url, loc).id == "2020.06"
    assert len(list(tmp_path.iterdir())) == 1
    # the server goes away: the cached copy still works offline
    offline = url.replace(server, "http://127.0.0.1:9")
    (tmp_path / next(tmp_path.iterdir()).name).rename(tmp_path / "kept.json")
    with pytest.raises(GuidelineSourceError, match=r"cannot fetch guideline http://127\.0\.0\.1:9/"):
        load_guideline(offline, loc)


def test_cached_copy_used_when_server_is_down(interop_dir: Path, tmp_path: Path) -> None:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(interop_dir)))
    port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    loc = GuidelineLocation(server=f"http://127.0.0.1:{port}", cache_dir=tmp_path)
    assert load_guideline("2019.06", loc).id == "2019.06"
    httpd.shutdown()
    httpd.server_close()
    assert load_guideline("2019.06", loc).id == "2019.06"  # from the cache


def test_version_name_from_server(server: str, tmp_path: Path) -> None:
    loc = GuidelineLocation(server=server, cache_dir=tmp_path)
    assert load_guideline("orchestration.2020.06", loc).id == "orchestration.2020.06"


def test_missing_on_server_is_a_clear_error(server: str, tmp_path: Path) -> None:
    loc = GuidelineLocation(server=server, cache_dir=tmp_path)
    with pytest.raises(GuidelineSourceError, match=r"cannot fetch guideline .*/v1/guidelines/2031\.01\.json: HTTP 404"):
        load_guideline("2031.01", loc)


def test_garbage_over_http_is_refused(server: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidGuideline, match="not valid JSON"):
        load_guideline(f"{server}/v1/guidelines/havanasections.json", GuidelineLocation(cache_dir=tmp_path))


def test_neither_file_url_nor_version(tmp_path: Path) -> None:
    with pytest.raises(GuidelineSourceError, match="neither an existing file, an http"):
        load_guideline(str(tmp_path / "nothing-here.json"), GuidelineLocation(cache_dir=tmp_path))


def test_environment_fills_the_location(monkeypatch: pytest.MonkeyPatch, interop_dir: Path) -> None:
    monkeypatch.setenv("TCUP_GUIDELINES_DIR", str(interop_dir))
    monkeypatch.setenv("TCUP_SERVER", "http://example.invalid/")
    loc = GuidelineLocation.from_options()
    assert loc.directory == interop_dir and loc.server == "http://example.invalid"


def test_a_trickling_guideline_server_is_given_up_at_the_deadline(tmp_path: Path) -> None:
    """One byte every 0.3 s never trips the read timeout; the total deadline ends the fetch, and the
    message says how to go on."""
    import time

    from tests.tcup.fake_server import Script, serve

    script = Script(answers=[(200, {"metadata": {"id": "x"}, "padding": "y" * 100})], trickle=0.3)
    with serve(script):
        location = GuidelineLocation(cache_dir=tmp_path / "cache", deadline=2.0)
        started = time.monotonic()
        with pytest.raises(GuidelineSourceError, match="within 2 s.*--timeout.*--guideline FILE"):
            load_guideline(f"{script.url}/guideline.json", location)
        assert time.monotonic() - started < 3.0
    assert script.requests[0].method == "GET"


def test_list_tests_timeout_bounds_a_trickling_fetch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from click.testing import CliRunner

    from tcup.cli import cli
    from tests.tcup.fake_server import Script, serve

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    script = Script(answers=[(200, {"padding": "y" * 200})], trickle=0.3)
    with serve(script):
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["list-tests", "-g", f"{script.url}/g.json", "--timeout", "2"])
        assert time.monotonic() - started < 3.5
    assert result.exit_code == 2 and "no complete answer within 2 s" in result.output
