"""Helpers shared by the scripts that drive a live `assent serve`: start and stop it, sign user
tokens as an identity provider would, and make requests."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_hs256(account, secret, expires_in=3600, audience=None, issued_at=None):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": account, "exp": int(time.time()) + expires_in}
    if audience:
        claims["aud"] = audience
    if issued_at is not None:
        claims["iat"] = int(issued_at)
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = b64url(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def fresh_database(workdir):
    """A new database for one live check: a SQLite file in `workdir`, or, when
    ASSENT_LIVE_BACKEND=postgres, a new database on the server of ASSENT_TEST_POSTGRES_URL
    (scripts/pg starts one)."""
    if os.environ.get("ASSENT_LIVE_BACKEND") != "postgres":
        return os.path.join(workdir, "assent.sqlite")
    admin = os.environ.get("ASSENT_TEST_POSTGRES_URL")
    if not admin:
        raise RuntimeError("ASSENT_LIVE_BACKEND=postgres needs ASSENT_TEST_POSTGRES_URL (run it under scripts/pg)")
    name = "assent_live_" + os.urandom(6).hex()
    subprocess.run(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    return admin.rsplit("/", 1)[0] + "/" + name


def backend_name():
    return "PostgreSQL" if os.environ.get("ASSENT_LIVE_BACKEND") == "postgres" else "SQLite"


class Server:
    """`assent serve` in a child process on a free port (under `wrapper`, a command such as
    valgrind's, when given)."""

    def __init__(self, binary, database, env=None, demo=False, demo_accounts=200, wrapper=None):
        self.binary = binary
        self.wrapper = wrapper or []
        self.database = database
        self.port = free_port()
        self.env = dict(os.environ, ASSENT_LOG_LEVEL="warning", **(env or {}))
        # A URL names no folder: the log and the exports go to a temporary one of this server's
        # own, removed when it stops cleanly (kept after a failure, for the reader).
        self.scratch = None
        if "://" in database:
            self.scratch = tempfile.mkdtemp(prefix="assent-serve-")
            self.env.setdefault("ASSENT_EXPORT_DIR", os.path.join(self.scratch, "exports"))
        self.demo = demo
        self.demo_accounts = demo_accounts
        self.process = None
        self.output = ""

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=120):
        args = self.wrapper + [self.binary, "serve", "--database", self.database, "--port", str(self.port)]
        if self.demo:
            args += ["--demo", "--demo-accounts", str(self.demo_accounts)]
        log_dir = self.scratch or os.path.dirname(self.database)
        os.makedirs(log_dir, exist_ok=True)
        self.log = open(os.path.join(log_dir, f"assent-serve-{os.getpid()}-{self.port}.log"), "w+")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.read_output()}")
            try:
                status, _, _ = request("GET", self.base + "/health")
                if status == 200:
                    time.sleep(0.2)
                    self.output = self.read_output()
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start: " + self.read_output())

    def read_output(self):
        if self.log.closed:
            return self.output
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def demo_credentials(self):
        """The demo keys and user token the server printed."""
        keys, token, user = {}, None, None
        for line in self.output.splitlines():
            line = line.strip()
            if line.startswith("demo-") and ": assent_" in line:
                keys[line.split(" ")[0]] = line.rsplit(" ", 1)[1]
            match = re.match(r"demo user (\S+)'s token: (\S+)$", line)
            if match:
                user, token = match.group(1), match.group(2)
        return keys, user, token

    def kill(self):
        """kill -9: no chance to flush or close anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        code = self.process.returncode if self.process else None
        if self.scratch and code == 0 and not self.log.closed:
            self.output = self.read_output()
            self.log.close()
            shutil.rmtree(self.scratch, ignore_errors=True)
        return code


def request(method, url, bearer=None, body=None, headers=None, timeout=30):
    data = None
    all_headers = dict(headers or {})
    if bearer:
        all_headers["Authorization"] = f"Bearer {bearer}"
    if body is not None:
        data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        all_headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class IdentityProvider:
    """The test OpenID Connect provider (`assent-test-idp`) on a free loopback port: discovery,
    JWKS, the authorization-code flow with PKCE, and /admin routes to mint tokens."""

    CLIENT_ID = "assent-console"
    CLIENT_SECRET = "test-client-secret"

    def __init__(self, binary=None):
        self.binary = binary or os.path.join(ROOT, ".build/debug/assent-test-idp")
        self.port = free_port()
        self.process = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=60):
        args = [self.binary, "--port", str(self.port), "--client-id", self.CLIENT_ID, "--client-secret", self.CLIENT_SECRET]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"assent-test-idp exited with {self.process.returncode}")
            try:
                if request("GET", self.base + "/.well-known/openid-configuration")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("assent-test-idp did not start")

    def mint(self, **fields):
        """A token: sub, aud, alg (RS256, ES256, EdDSA, none, HS256-confusion), kid, iss, exp, nbf."""
        body = "&".join(f"{k}={urllib.parse.quote(str(v))}" for k, v in fields.items())
        status, _, token = request("POST", self.base + "/admin/mint", body=body,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200, token
        return token.decode()

    def approve(self, fields):
        """Posts the provider's sign-in form as a browser would; returns the redirect it answers."""
        body = urllib.parse.urlencode(fields)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("POST", "/authorize", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        response.read()
        connection.close()
        return response.status, response.getheader("Location")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
