"""The production image, built without Docker: the Dockerfile's own steps, in order, in a
temporary directory (a fresh virtualenv stands for the image's Python), then its CMD (gunicorn,
DEBUG off) on 127.0.0.1. The login page's stylesheet and script are served by the app itself
with a long cache header: the image carries its static files.

Steps that need root (creating the `app` user) are left out; everything else is the
Dockerfile's text, so a change there is what this test runs. Takes about a minute (the
dependencies are installed from the package index into the fresh virtualenv).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.config.subprocess_env import BASE_DIR, clean_env
from tests.twilio_bridge.test_sandbox_commands import free_port

DOCKERFILE = (BASE_DIR / "Dockerfile").read_text()
ONE_YEAR = 365 * 24 * 3600


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            rows.append((keyword.upper(), arguments.strip()))
    return rows


def docker_ignored() -> list[str]:
    lines = (BASE_DIR / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def copy_context(source: str, target: Path) -> None:
    """COPY <source> <target> from the build context (the checkout minus .dockerignore)."""
    patterns = docker_ignored()

    def ignored(directory: str, names: list[str]) -> set[str]:
        relative = Path(directory).relative_to(BASE_DIR)
        skip = set()
        for name in names:
            path = str(relative / name) if str(relative) != "." else name
            for pattern in patterns:
                anywhere = pattern.removeprefix("**/")
                if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(name, anywhere):
                    skip.add(name)
        return skip

    if source == ".":
        shutil.copytree(BASE_DIR, target, ignore=ignored, dirs_exist_ok=True)
    else:
        shutil.copy(BASE_DIR / source, target / source)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's /app, built by following the Dockerfile; returns the app directory."""
    root = tmp_path_factory.mktemp("image")
    venv, app = root / "venv", root / "app"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = clean_env(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    ran = []
    for keyword, arguments in instructions():
        if keyword == "WORKDIR":
            app.mkdir(parents=True, exist_ok=True)
        elif keyword == "ENV":
            env.update(dict(pair.split("=", 1) for pair in shlex.split(arguments)))
        elif keyword == "COPY":
            source, _ = arguments.split()
            copy_context(source, app)
        elif keyword == "RUN" and "useradd" not in arguments:
            result = subprocess.run(
                ["sh", "-c", arguments],
                cwd=app,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert result.returncode == 0, f"RUN {arguments}\n{result.stdout}\n{result.stderr}"
            ran.append(arguments)
    assert any("pip install" in step for step in ran)
    assert any("collectstatic" in step for step in ran), "the image must collect static files"
    return app


def wait_until_serving(url: str, timeout: float = 90.0) -> None:
    """Four workers import Django on a busy machine: retry until one answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(url, timeout=10)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def command() -> list[str]:
    cmd: list[str] = json.loads(dict(instructions())["CMD"])
    return cmd


@pytest.fixture(scope="module")
def server(image: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Dockerfile's CMD with DEBUG off, bound to 127.0.0.1 on a free port."""
    port = free_port()
    cmd = command()
    cmd[cmd.index("--bind") + 1] = f"127.0.0.1:{port}"
    env = clean_env(
        PATH=f"{image.parent / 'venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="production-image-test-only-0123456789-abcdefghijklmnopqrstuv",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path_factory.mktemp('db') / 'db.sqlite3'}",
    )
    log = (image.parent / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        cmd, cwd=image, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/healthz")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def asset(page: str, pattern: str) -> str:
    found = re.search(pattern, page)
    assert found, f"no {pattern} in the page"
    return found.group(1)


def test_the_login_page_links_hashed_static_files(server: str) -> None:
    response = requests.get(f"{server}/accounts/login/", timeout=10)

    assert response.status_code == 200
    asset(response.text, r'<link rel="stylesheet" href="(/static/sms/app\.[0-9a-f]{12}\.css)"')
    asset(response.text, r'<script src="(/static/sms/app\.[0-9a-f]{12}\.js)"')


@pytest.mark.parametrize(
    ("pattern", "source", "content_type"),
    [
        (r'href="(/static/sms/app\.[0-9a-f]{12}\.css)"', "app.css", "text/css"),
        (r'src="(/static/sms/app\.[0-9a-f]{12}\.js)"', "app.js", "text/javascript"),
    ],
)
def test_the_pages_static_files_are_served_with_a_long_cache_header(
    server: str, pattern: str, source: str, content_type: str
) -> None:
    page = requests.get(f"{server}/accounts/login/", timeout=10).text

    response = requests.get(
        server + asset(page, pattern), timeout=10, headers={"Accept-Encoding": "identity"}
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    assert response.content == (BASE_DIR / "config" / "static" / "sms" / source).read_bytes()
    cache = response.headers["Cache-Control"]
    max_age = int(asset(cache, r"max-age=(\d+)"))
    assert max_age >= ONE_YEAR, cache
    assert "immutable" in cache


def test_the_stylesheet_is_served_compressed_to_browsers_that_accept_it(server: str) -> None:
    page = requests.get(f"{server}/accounts/login/", timeout=10).text
    url = server + asset(page, r'href="(/static/sms/app\.[0-9a-f]{12}\.css)"')

    response = requests.get(url, timeout=10, headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.content == (BASE_DIR / "config" / "static" / "sms" / "app.css").read_bytes()


def test_the_api_docs_scripts_are_served_too(server: str) -> None:
    """The API docs page loads Swagger UI from this server (no CDN)."""
    response = requests.get(
        f"{server}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        timeout=10,
    )

    assert response.status_code == 200


def test_compose_leaves_static_files_to_the_image() -> None:
    """A collectstatic in another container (the migrate job) writes files web never sees."""
    compose = (BASE_DIR / "docker-compose.yml").read_text()

    assert "collectstatic" not in compose
    assert "collectstatic" in DOCKERFILE
