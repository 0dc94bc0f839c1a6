"""JupyterLab from the book's environment, on 127.0.0.1, for a test (or a script) to open notebooks in Chromium.

    with lab.server(ROOT / "notebooks") as url:   # http://127.0.0.1:PORT/?token=… is url.base, url.token
        driver.get(url.page("lab/tree/02_walkthrough.ipynb"))

A free port, a random token, bound to 127.0.0.1 only; `--allow-root` only when run as root
(as CI is); stopped by its own PID (then its kernels go with it). The notebooks are opened
from a copy of the folder, so running every cell never changes the repository's files.
`run_all(driver)` runs every cell of the open notebook and waits until the kernel is idle
and every code cell has run; it returns the errors the outputs show, if any.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JUPYTER = Path(sys.executable).parent / "jupyter"


@dataclass(frozen=True)
class Lab:
    base: str
    token: str
    folder: Path
    log: Path

    def page(self, path: str) -> str:
        return f"{self.base}{path}?token={self.token}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(notebooks: Path, start_timeout: float = 120.0, jupyter: Path = JUPYTER, copy: bool = True):
    """A JupyterLab server (jupyter: the environment's command) on a copy of the folder `notebooks` (or the folder
    itself, copy=False); stopped (by its PID) when the block ends."""
    if not Path(jupyter).is_file():
        raise RuntimeError(f"no {jupyter}: JupyterLab is pinned in requirements.txt (make book installs it)")
    with tempfile.TemporaryDirectory(prefix="attn-lab-") as tmp:
        folder = Path(tmp) / "notebooks" if copy else Path(notebooks)
        if copy:
            shutil.copytree(notebooks, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        port, token, log = free_port(), secrets.token_hex(16), Path(tmp) / "lab.log"
        args = [str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
                "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(Path(tmp) / "config"), "JUPYTER_RUNTIME_DIR": str(Path(tmp) / "runtime"),
               "JUPYTERLAB_SETTINGS_DIR": str(Path(tmp) / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(Path(tmp) / "workspaces")}
        # JupyterLab's own question about fetching its news: answered "no" before it is asked (it would cover the widgets).
        notices = Path(tmp) / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notices.parent.mkdir(parents=True)
        notices.write_text('{"fetchNews": "false", "checkForUpdates": false}', encoding="utf-8")
        with open(log, "wb") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True)
        lab = Lab(f"http://127.0.0.1:{port}/", token, folder, log)
        try:
            wait_until_up(lab, proc, start_timeout)
            yield lab
        finally:
            stop(lab, proc)


def wait_until_up(lab: Lab, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab stopped at start (exit {proc.returncode}):\n{lab.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(lab.page("api/status"), timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{lab.log.read_text()[-3000:]}")


def stop(lab: Lab, proc: subprocess.Popen) -> None:
    """The server and its kernels (kernels run in sessions of their own): asked to shut down through its API, then
    its process group SIGTERM, then SIGKILL, 10 s apart."""
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(urllib.request.Request(lab.page("api/shutdown"), method="POST"), timeout=10).close()
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


# The notebook open at a path, through the app JupyterLab exposes (expose_app_in_browser).
_FIND = """
const path = arguments[0];
let w = null;
for (const x of window.jupyterapp ? window.jupyterapp.shell.widgets('main') : []) {
  if (x.context && x.context.path === path && x.content && x.sessionContext) { w = x; break; }
}
"""
_READY = _FIND + """
return !!(w && w.sessionContext.session && w.sessionContext.session.kernel && w.sessionContext.session.kernel.status === 'idle');
"""
_RUN = _FIND + "window.jupyterapp.shell.activateById(w.id); w.content.activate();" + \
    "window.jupyterapp.commands.execute('notebook:run-all-cells'); return true;"  # not its promise: it ends with the last cell
_STATE = _FIND + """
const cells = w.content.model.cells, out = {code: 0, ran: 0, errors: []};
for (let i = 0; i < cells.length; i++) {
  const c = cells.get(i);
  if (c.type !== "code") continue;
  out.code += 1;
  if (c.executionCount) out.ran += 1;
  for (let k = 0; k < c.outputs.length; k++) {
    const o = c.outputs.get(k).toJSON();
    if (o.output_type === "error") out.errors.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
  }
}
out.status = w.sessionContext.session.kernel.status;
return out;
"""
_SHUT = _FIND + "const done = arguments[arguments.length - 1]; w.sessionContext.shutdown().then(() => done(true), () => done(false));"


def open_notebook(driver, lab: Lab, name: str, ui: str = "lab", timeout: float = 120.0) -> None:
    """Open a notebook of the folder and wait until its kernel is idle: in JupyterLab (ui "lab"), in a workspace
    of its own (nothing else restored), or in Notebook 7's interface (ui "notebook")."""
    if ui == "notebook":
        driver.get(lab.page(f"notebooks/{name}"))
    else:
        workspace = "attn-" + name.replace(".", "-").replace("/", "-")
        driver.get(lab.page(f"lab/workspaces/{workspace}/tree/{name}") + "&reset")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.execute_script(_READY, name):
            return
        time.sleep(0.5)
    raise TimeoutError(f"{name} did not open with an idle kernel within {timeout:.0f} s")


def run_all(driver, name: str, timeout: float = 900.0) -> dict:
    """Run every cell of the open notebook `name`; wait until each code cell has run and the kernel is idle.
    Returns {code, ran, errors, status}."""
    driver.execute_script(_RUN, name)
    deadline, state = time.monotonic() + timeout, None
    time.sleep(1)
    while time.monotonic() < deadline:
        state = driver.execute_script(_STATE, name)
        if state["errors"] or (state["ran"] == state["code"] and state["status"] == "idle"):
            return state
        time.sleep(1)
    raise TimeoutError(f"{name} did not finish within {timeout:.0f} s: {state}")


def shut_down(driver, name: str) -> None:
    """Shut down the kernel of the open notebook `name` (its memory and any thread it left), keeping the page."""
    driver.execute_async_script(_SHUT, name)


def run_in_kernel(lab: Lab, code: str, timeout: float = 120.0) -> str:
    """Start a kernel through the server's REST API, run code on its websocket, return what it printed.
    Raises RuntimeError with the kernel's error if the code fails."""
    import json
    import uuid

    import websocket  # websocket-client, which jupyter-server pulls in

    request = urllib.request.Request(lab.page("api/kernels"), data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        kernel = json.load(r)["id"]
    ws = websocket.create_connection(lab.page(f"api/kernels/{kernel}/channels").replace("http://", "ws://"), timeout=timeout)
    try:
        msg_id, session = uuid.uuid4().hex, uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": session,
                       "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        printed, seen, deadline = [], set(), time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind == "error":
                raise RuntimeError(f"{content['ename']}: {content['evalue']}")
            elif kind == "execute_reply" or (kind == "status" and content["execution_state"] == "idle"):
                seen.add(kind)  # the reply (shell) and idle (iopub, after every output) may come in either order
                if seen == {"execute_reply", "status"}:
                    return "".join(printed)
        raise TimeoutError(f"the kernel did not answer within {timeout:.0f} s")
    finally:
        ws.close()
