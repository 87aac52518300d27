#!/usr/bin/env python3
"""Real-browser test of netstore-web: headless Chromium driven by Selenium against
real netstore-server and netstore-web processes.

Logs in, uploads two files through the page (file picker, two at once), sees
them listed, reads them back through a real netstore-mount of the same account
(equal SHA-256) and sees a file written into the mount in the page's listing,
opens the text and image previews, downloads the text file and compares its
SHA-256 (and reads it back with the netstore CLI), renames it, deletes it,
checks the phone layout (390x844, no sideways overflow), the admin pages, and
logs out. Last, a 2 GiB upload streams through the viewer over plain HTTP and
back with equal SHA-256 while the viewer's peak memory (VmHWM) stays far below
the file's size. Screenshots of every page go to test-artifacts/browser/.

The mount step needs /dev/fuse and fusermount3 (as root in CI): like the mount
tests, the test fails loudly when they are missing.

Run by Scripts/test, which installs chromium, chromium-driver and selenium.
Usage: web_browser_test.py --bin-dir DIR [--artifacts DIR]
"""
import argparse
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

MISSING_HELP = "run Scripts/test (it installs chromium, chromium-driver and selenium), or install them yourself"


def fail(message):
    print(f"BROWSER TEST FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def find_browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    try:
        import selenium  # noqa: F401
    except ImportError:
        fail(f"the Python package selenium is missing: {MISSING_HELP}")
    if not chromium:
        fail(f"chromium is not installed: {MISSING_HELP}")
    if not driver:
        fail(f"chromedriver (Debian's chromium-driver) is not installed: {MISSING_HELP}")
    return chromium, driver


class Child:
    """A child process whose output is collected; `wait_for` finds a line in it."""

    def __init__(self, name, args, env=None):
        self.name = name
        self.output = []
        self.lock = threading.Lock()
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            with self.lock:
                self.output.append(line)

    def text(self):
        with self.lock:
            return "".join(self.output)

    def wait_for(self, pattern, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.text())
            if match:
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        fail(f"{self.name} did not print /{pattern}/:\n{self.text()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def png(width, height):
    """A small RGB gradient PNG, made without any image library."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 4 % 256, y * 4 % 256, 180)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


FUSE_HELP = "load the fuse module or run the container with --device /dev/fuse, and apt-get install fuse3"
BIG_SIZE = 2 << 30
BIG_CHUNK = 1 << 20  # the store's block size: every block gets its own counter


def require_fuse():
    """Like the mount tests: a machine that cannot mount fails this test."""
    if not os.path.exists("/dev/fuse"):
        fail(f"MOUNT STEP CANNOT RUN: /dev/fuse is missing ({FUSE_HELP})")
    if not (shutil.which("fusermount3") or os.path.exists("/bin/fusermount3")):
        fail(f"MOUNT STEP CANNOT RUN: fusermount3 is missing ({FUSE_HELP})")


def is_mounted(mountpoint):
    with open("/proc/self/mountinfo") as f:
        return any(len(fields) > 4 and fields[4] == mountpoint for fields in (line.split() for line in f))


def unmount(mountpoint):
    """fusermount3 -u, then a lazy unmount if that fails; waits until the kernel no longer lists it."""
    if not is_mounted(mountpoint):
        return
    if subprocess.run(["fusermount3", "-u", mountpoint], capture_output=True).returncode != 0:
        subprocess.run(["fusermount3", "-uz", mountpoint], capture_output=True)
    deadline = time.monotonic() + 30
    while is_mounted(mountpoint) and time.monotonic() < deadline:
        time.sleep(0.05)
    if is_mounted(mountpoint):
        print(f"warning: {mountpoint} is still mounted", file=sys.stderr)


def big_chunks(seed=2026):
    """BIG_SIZE deterministic bytes in BIG_CHUNK pieces: one pseudo-random
    pattern, each piece starting with its own counter, so that no two blocks
    are equal (equal blocks would be stored once and prove less)."""
    import random
    pattern = random.Random(seed).randbytes(BIG_CHUNK)
    for index in range(BIG_SIZE // BIG_CHUNK):
        yield index.to_bytes(8, "little") + pattern[8:]


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    fail(f"no VmHWM in /proc/{pid}/status")


def big_round_trip(base, cookie, csrf, upload_url, web_pid):
    """Streams BIG_SIZE bytes up through the viewer and back, hashing on the
    way; nothing is kept on disk here. Returns a summary line."""
    import http.client
    from urllib.parse import urlsplit
    host = urlsplit(base)
    before = vm_hwm_kib(web_pid)
    digest = hashlib.sha256()
    started = time.monotonic()
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
    connection.putrequest("POST", upload_url + "?name=big.bin")
    for name, value in (("Content-Type", "application/octet-stream"), ("Content-Length", str(BIG_SIZE)),
                        ("X-CSRF-Token", csrf), ("Cookie", cookie)):
        connection.putheader(name, value)
    connection.endheaders()
    for chunk in big_chunks():
        digest.update(chunk)
        connection.send(chunk)
    response = connection.getresponse()
    body = response.read().decode(errors="replace")
    connection.close()
    if response.status != 201:
        fail(f"the 2 GiB upload answered {response.status}: {body}")
    uploaded = time.monotonic()
    after_upload = vm_hwm_kib(web_pid)

    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
    connection.request("GET", "/download/big.bin", headers={"Cookie": cookie})
    response = connection.getresponse()
    if response.status != 200:
        fail(f"downloading the 2 GiB file answered {response.status}: {response.read()[:500]!r}")
    back = hashlib.sha256()
    received = 0
    while True:
        block = response.read(BIG_CHUNK)
        if not block:
            break
        back.update(block)
        received += len(block)
    connection.close()
    downloaded = time.monotonic()
    peak = vm_hwm_kib(web_pid)
    assert received == BIG_SIZE, f"downloaded {received} bytes of {BIG_SIZE}"
    assert back.hexdigest() == digest.hexdigest(), "the 2 GiB file came back with a different SHA-256"
    assert peak < 512 * 1024, f"the viewer's peak memory grew to {peak // 1024} MiB during a 2 GiB transfer"
    return (f"2 GiB: upload {uploaded - started:.1f} s, download {downloaded - uploaded:.1f} s, SHA-256 equal; "
            f"viewer VmHWM {before // 1024} MiB before, {after_upload // 1024} MiB after the upload, {peak // 1024} MiB at the end")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--artifacts", default="test-artifacts/browser")
    args = parser.parse_args()
    chromium, chromedriver = find_browser()
    require_fuse()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    bin_dir = os.path.abspath(args.bin_dir)
    for tool in ("netstore-server", "netstore-web", "netstore", "netstore-mount"):
        if not os.access(os.path.join(bin_dir, tool), os.X_OK):
            fail(f"{tool} not found in {bin_dir}: build the package first (swift build)")
    artifacts = os.path.abspath(args.artifacts)
    shutil.rmtree(artifacts, ignore_errors=True)
    downloads = os.path.join(artifacts, "downloads")
    os.makedirs(downloads)
    work = tempfile.mkdtemp(prefix="netstore-browser-")
    mountpoint = os.path.join(work, "mnt")
    children = []
    driver = None
    step = "start"

    def shot(name):
        driver.save_screenshot(os.path.join(artifacts, f"{name}.png"))

    def session_cookie():
        return "ns_session=" + driver.get_cookie("ns_session")["value"]

    def http_get(base, path):
        """GET with the browser's session cookie, outside the browser."""
        import http.client
        from urllib.parse import urlsplit
        url = urlsplit(base)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        connection.request("GET", path, headers={"Cookie": session_cookie()})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status == 200, f"GET {path}: {response.status} {body[:300]!r}"
        return body

    try:
        admin_password = "admin-browser-pw"
        with open(os.path.join(work, "admin-pw"), "w") as f:
            f.write(admin_password)
        server = Child("netstore-server", [os.path.join(bin_dir, "netstore-server"), "--listen", "127.0.0.1:0",
                                           "--data", os.path.join(work, "data"),
                                           "--admin-password-file", os.path.join(work, "admin-pw")])
        children.append(server)
        server_address = "127.0.0.1:" + server.wait_for(r"listening on 127\.0\.0\.1:(\d+)").group(1)

        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "config"))
        env.pop("NETSTORE_SERVERS", None)

        def cli(*arguments):
            result = subprocess.run([os.path.join(bin_dir, "netstore"), *arguments, "--server", server_address],
                                    env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if result.returncode != 0:
                fail(f"netstore {' '.join(arguments)}: {result.stderr}")
            return result.stdout

        alice_password = "alice-browser-pw"
        with open(os.path.join(work, "alice-pw"), "w") as f:
            f.write(alice_password)
        cli("login", "admin", "--password-file", os.path.join(work, "admin-pw"))
        cli("user", "add", "alice", "--password-file", os.path.join(work, "alice-pw"))

        web = Child("netstore-web", [os.path.join(bin_dir, "netstore-web"), "--listen", "127.0.0.1:0", "--server", server_address])
        children.append(web)
        base = "http://127.0.0.1:" + web.wait_for(r"listening on http://127\.0\.0\.1:(\d+)/").group(1)

        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"):
            options.add_argument(flag)
        options.add_experimental_option("prefs", {
            "download.default_directory": downloads, "download.prompt_for_download": False,
            "safebrowsing.enabled": False})
        driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
        wait = WebDriverWait(driver, 30)

        def login(user, password):
            driver.get(base + "/login")
            wait.until(EC.presence_of_element_located((By.ID, "user")))
            driver.find_element(By.ID, "user").send_keys(user)
            driver.find_element(By.ID, "password").send_keys(password)
            driver.find_element(By.ID, "login").click()
            wait.until(EC.presence_of_element_located((By.ID, "listing")))

        step = "log in"
        driver.get(base + "/files/")
        wait.until(EC.presence_of_element_located((By.ID, "login")))
        assert "/login" in driver.current_url, driver.current_url
        shot("01-login")
        login("alice", alice_password)
        shot("02-empty-folder")

        step = "upload two files through the page"
        text_name = "notes <b>&.txt"
        text_path = os.path.join(work, "notes.txt")
        with open(text_path, "w") as f:
            for i in range(400):
                f.write(f"line {i}: NetStore keeps every block by its SHA-256 <and escapes> names & text.\n")
        image_path = os.path.join(work, "gradient.png")
        with open(image_path, "wb") as f:
            f.write(png(64, 48))
        upload_dir = os.path.join(work, "to-upload")
        os.makedirs(upload_dir)
        shutil.copy(text_path, os.path.join(upload_dir, text_name))
        shutil.copy(image_path, os.path.join(upload_dir, "gradient.png"))
        picker = driver.find_element(By.ID, "upload-input")
        driver.execute_script("arguments[0].hidden = false;", picker)
        picker.send_keys(os.path.join(upload_dir, text_name) + "\n" + os.path.join(upload_dir, "gradient.png"))

        step = "see the uploads listed"
        row = f'tr.entry[data-name="{text_name}"]'
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row) and d.find_elements(By.CSS_SELECTOR, 'tr.entry[data-name="gradient.png"]'))
        names = [e.get_attribute("data-name") for e in driver.find_elements(By.CSS_SELECTOR, "tr.entry")]
        assert names == ["gradient.png", text_name], names
        assert not driver.find_elements(By.CSS_SELECTOR, "td.name b"), "a file name was rendered as markup"
        shot("03-listing")

        step = "the upload is in the store (read back with the CLI)"
        cli("login", "alice", "--password-file", os.path.join(work, "alice-pw"))
        fetched = os.path.join(work, "fetched.txt")
        cli("get", "/" + text_name, fetched)
        assert sha256(fetched) == sha256(text_path), "the CLI read different bytes"

        step = "read the uploads back through a mount of the same account"
        os.makedirs(mountpoint)
        mount_env = dict(env, XDG_CACHE_HOME=os.path.join(work, "cache"))
        mount_log = os.path.join(work, "mount.log")
        # Background mode with the session `netstore login alice` saved; its output goes to a
        # file, since the daemon it leaves behind would hold a pipe open.
        with open(os.path.join(work, "mount-start.log"), "w") as out:
            started = subprocess.run([os.path.join(bin_dir, "netstore-mount"), mountpoint, "--server", server_address,
                                      "--log-level", "info", "--log-file", mount_log],
                                     env=mount_env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=60)
        if started.returncode != 0 or not is_mounted(mountpoint):
            with open(os.path.join(work, "mount-start.log")) as f:
                fail(f"MOUNT FAILED: netstore-mount exited {started.returncode}, mounted: {is_mounted(mountpoint)}:\n{f.read()}")
        assert sha256(os.path.join(mountpoint, text_name)) == sha256(text_path), "the mount read different bytes"
        assert sha256(os.path.join(mountpoint, "gradient.png")) == sha256(image_path), "the mount read a different image"

        step = "a file written into the mount shows in the page"
        import random
        mount_bytes = random.Random(7).randbytes(3 * 1024 * 1024 + 12345)
        with open(os.path.join(mountpoint, "from-mount.bin"), "wb") as f:
            f.write(mount_bytes)
            os.fsync(f.fileno())
        mount_row = 'tr.entry[data-name="from-mount.bin"]'

        def listed(d):
            d.refresh()
            return d.find_elements(By.CSS_SELECTOR, mount_row)
        wait.until(listed)
        shot("03b-written-through-mount")
        assert hashlib.sha256(http_get(base, "/download/from-mount.bin")).hexdigest() == hashlib.sha256(mount_bytes).hexdigest(), \
            "the page served different bytes than were written into the mount"
        unmount(mountpoint)
        assert not is_mounted(mountpoint), "the mount did not go away"

        step = "image preview"
        driver.find_element(By.CSS_SELECTOR, 'tr.entry[data-name="gradient.png"] td.name a').click()
        image = wait.until(EC.presence_of_element_located((By.ID, "preview-image")))
        wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 64)
        shot("04-image-preview")
        driver.back()

        step = "text preview"
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, row)))
        driver.find_element(By.CSS_SELECTOR, row + " td.name a").click()
        preview = wait.until(EC.presence_of_element_located((By.ID, "preview-text")))
        assert "line 399: NetStore keeps every block by its SHA-256 <and escapes> names & text." in preview.text
        assert driver.find_element(By.ID, "file-name").text == text_name
        shot("05-text-preview")

        step = "download and compare SHA-256"
        driver.find_element(By.ID, "download").click()
        # Chromium names the file after Content-Disposition, replacing characters like < and >.
        deadline = time.monotonic() + 30
        done = []
        while time.monotonic() < deadline:
            done = [n for n in os.listdir(downloads) if not n.endswith(".crdownload") and not n.startswith(".")]
            if done:
                break
            time.sleep(0.1)
        if len(done) != 1 or not done[0].startswith("notes "):
            fail(f"the download did not arrive in {downloads}: {os.listdir(downloads)}")
        target = os.path.join(downloads, done[0])
        assert sha256(target) == sha256(text_path), "the downloaded file differs from the uploaded one"

        step = "rename"
        driver.find_element(By.ID, "rename").click()
        field = wait.until(EC.presence_of_element_located((By.ID, "rename-to")))
        field.clear()
        field.send_keys("renamed.txt")
        shot("06-rename")
        driver.find_element(By.ID, "rename-submit").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'tr.entry[data-name="renamed.txt"]')))
        assert not driver.find_elements(By.CSS_SELECTOR, row)
        shot("07-renamed")

        step = "phone layout (390x844)"
        # Exactly a phone's viewport, whatever the window decorations take.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
        driver.refresh()
        wait.until(EC.presence_of_element_located((By.ID, "listing")))
        metrics = driver.execute_script("""
            const listing = document.getElementById("listing"), box = listing.getBoundingClientRect();
            return {inner: window.innerWidth, page: document.documentElement.scrollWidth, left: box.left, right: box.right,
                    parentScroll: listing.parentElement.scrollWidth, parentClient: listing.parentElement.clientWidth};""")
        shot("08-phone-listing")
        assert metrics["inner"] == 390, f"the viewport is not a phone's: {metrics}"
        assert metrics["page"] <= 390, f"the phone layout scrolls sideways: {metrics}"
        assert metrics["left"] >= 0 and metrics["right"] <= 390, f"the listing sticks out of the screen: {metrics}"
        assert metrics["parentScroll"] <= metrics["parentClient"], f"the listing overflows its container: {metrics}"
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        step = "delete with confirmation"
        driver.find_element(By.CSS_SELECTOR, 'tr.entry[data-name="renamed.txt"] a.danger').click()
        wait.until(EC.presence_of_element_located((By.ID, "delete-confirm")))
        shot("09-delete-confirm")
        driver.find_element(By.ID, "delete-confirm").click()
        wait.until(EC.presence_of_element_located((By.ID, "listing")))
        names = [e.get_attribute("data-name") for e in driver.find_elements(By.CSS_SELECTOR, "tr.entry")]
        assert names == ["from-mount.bin", "gradient.png"], names

        step = "log out"
        driver.find_element(By.ID, "logout").click()
        wait.until(EC.presence_of_element_located((By.ID, "user")))
        driver.get(base + "/files/")
        wait.until(EC.presence_of_element_located((By.ID, "user")))
        assert "/login" in driver.current_url, driver.current_url
        shot("10-logged-out")

        step = "admin pages"
        login("admin", admin_password)
        driver.get(base + "/admin/users")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-user="alice"]')))
        shot("11-admin-accounts")
        driver.get(base + "/admin/cluster")
        wait.until(EC.presence_of_element_located((By.ID, "cluster")))
        assert "reachable" in driver.find_element(By.ID, "cluster").text
        shot("12-admin-cluster")
        driver.get(base + "/files/no-such-file.txt")
        wait.until(EC.presence_of_element_located((By.ID, "error-message")))
        shot("13-error-page")

        step = "a 2 GiB upload streams through the viewer and back"
        driver.get(base + "/files/")
        tools = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".tools[data-upload]")))
        csrf = driver.find_element(By.CSS_SELECTOR, 'meta[name="csrf-token"]').get_attribute("content")
        print(big_round_trip(base, session_cookie(), csrf, tools.get_attribute("data-upload"), web.process.pid), flush=True)
        print(f"browser test passed; screenshots in {artifacts}")
        print("1 passed, 0 failed")
        return 0
    except AssertionError as error:
        if driver:
            shot("failure")
        for child in children:
            print(f"--- {child.name} output\n{child.text()}", file=sys.stderr)
        fail(f"step '{step}': {error}")
    except SystemExit:  # a check that failed with fail(): show the servers' logs too
        for child in children:
            print(f"--- {child.name} output\n{child.text()}", file=sys.stderr)
        raise
    except Exception as error:  # a Selenium timeout or a crash: show where, and the servers' logs
        if driver:
            shot("failure")
        for child in children:
            print(f"--- {child.name} output\n{child.text()}", file=sys.stderr)
        fail(f"step '{step}': {type(error).__name__}: {error}")
    finally:
        if driver:
            driver.quit()
        unmount(mountpoint)
        for child in children:
            child.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
