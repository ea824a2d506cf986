"""The Resa Java kernel through the real Jupyter protocol (jupyter_client), beyond the conformance suite.

Run by KernelProtocolTest with JUPYTER_PATH pointing at a test kernelspec named in RESA_TEST_KERNEL and
JUPYTER_DATA_DIR at a scratch folder (the kernel keeps its input history there).
"""
import json
import os
import time
import unittest
import uuid

from jupyter_client.manager import start_new_kernel

KERNEL = os.environ.get("RESA_TEST_KERNEL", "resa-java")
REPO = os.environ.get("RESA_REPO", os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
TIMEOUT = 120


def cpu_seconds(pid):
    """CPU time (user + system, all threads) process pid has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid):
    """{thread name (tid): CPU seconds} of every thread of process pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
            fields = rest.split()
            out[f"{head.split('(', 1)[1]} ({tid})"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return out


def alive(pid):
    """True while pid runs (a zombie waiting for its parent counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class KernelSession:
    def __init__(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=TIMEOUT)
        self.replies = {}  # shell replies read while waiting for another one, by parent msg_id
        self.outputs, self.idle = {}, set()  # the same for iopub outputs and idle statuses

    def pid(self):
        return self.km.provisioner.process.pid

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)

    def collect(self, msg_id, timeout=TIMEOUT):
        """Outputs of one request until its idle status: (list of iopub messages). Messages of other requests read
        on the way are kept for them (with Run All, aborted requests go idle before the failed one)."""
        while msg_id not in self.idle:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            parent = msg["parent_header"].get("msg_id")
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                self.idle.add(parent)
            elif msg["msg_type"] not in ("status", "execute_input"):
                self.outputs.setdefault(parent, []).append(msg)
        self.idle.discard(msg_id)
        return self.outputs.pop(msg_id, [])

    def reply(self, msg_id, timeout=TIMEOUT):
        while msg_id not in self.replies:
            msg = self.kc.get_shell_msg(timeout=timeout)
            self.replies[msg["parent_header"].get("msg_id")] = msg
        return self.replies.pop(msg_id)

    def execute(self, code, timeout=TIMEOUT, **kw):
        """(execute_reply content, outputs)."""
        msg_id = self.kc.execute(code, **kw)
        reply = self.reply(msg_id, timeout)
        return reply["content"], self.collect(msg_id, timeout)

    def result(self, code):
        reply, outputs = self.execute(code)
        assert reply["status"] == "ok", (code, reply, outputs)
        for o in outputs:
            if o["msg_type"] == "execute_result":
                return o["content"]["data"]["text/plain"]
        return None

    def wait_idle_cpu(self, within, below=0.15, window=1.0, quiet_windows=1):
        """Seconds until the kernel's CPU use stayed below `below` cores for `quiet_windows` windows of `window` s;
        fails after `within` s, naming the busiest threads."""
        t0 = time.monotonic()
        quiet = 0
        while True:
            c0, threads0 = cpu_seconds(self.pid()), thread_cpu(self.pid())
            time.sleep(window)
            used = (cpu_seconds(self.pid()) - c0) / window
            threads1 = thread_cpu(self.pid())
            busy = sorted(((threads1[t] - threads0.get(t, 0)) / window, t) for t in threads1)
            # on a loaded machine a spinning thread may get only a little CPU: no cell thread may use any
            cells = max([c for c, t in busy if t.startswith("resa-cell")], default=0)
            busy = busy[-4:]
            quiet = quiet + 1 if used < below and cells < 0.02 else 0
            if quiet >= quiet_windows:
                return time.monotonic() - t0, used
            if time.monotonic() - t0 > within:
                raise AssertionError(f"kernel CPU still {used:.2f} cores {within} s after the interrupt; busiest "
                                     f"threads (cores): {[(t, round(c, 2)) for c, t in reversed(busy)]}; "
                                     f"load average {os.getloadavg()[0]:.1f}")

    def interrupted(self, code, after=0.5):
        """Runs code, interrupts it after `after` s; returns the execute_reply content."""
        msg_id = self.kc.execute(code)
        time.sleep(after)
        self.km.interrupt_kernel()
        reply = self.reply(msg_id, timeout=30)
        self.collect(msg_id, timeout=30)
        return reply["content"]


class InterruptAndBadCells(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = KernelSession()
        assert cls.k.result("1 + 1") == "2"
        # the kernel warms javac up once after its first cell (CompilerWarmup, ~7 s of CPU): let it finish
        cls.k.wait_idle_cpu(within=180, quiet_windows=3)

    @classmethod
    def tearDownClass(cls):
        cls.k.close()

    def test_interrupt_stops_a_tight_loop_and_cpu_returns_to_idle(self):
        reply = self.k.interrupted("long spins = 0;\nwhile (true) { spins++; }", after=1.0)
        self.assertEqual(reply["status"], "error")
        self.assertEqual(reply["ename"], "Interrupted")
        seconds, used = self.k.wait_idle_cpu(within=5)
        print(f"\n  while (true) interrupted: kernel CPU {used:.2f} cores, {seconds:.1f} s after the reply", end=" ")
        self.assertEqual(self.k.result("6 * 7"), "42")

    def test_hundred_bad_cells_then_42(self):
        kinds = {"throw": 0, "compile": 0, "print10MB": 0, "interrupted": 0}
        for i in range(100):
            kind = i % 10
            if kind < 4:
                reply, outputs = self.k.execute(f'throw new IllegalStateException("bad cell {i}");')
                self.assertEqual(reply["status"], "error")
                self.assertEqual(reply["ename"], "Exception")
                kinds["throw"] += 1
            elif kind < 8:
                reply, outputs = self.k.execute(f'int broken{i} = "not a number";')
                self.assertEqual(reply["status"], "error")
                self.assertEqual(reply["ename"], "CompileError")
                errors = [o for o in outputs if o["msg_type"] == "error"]
                self.assertEqual(len(errors), 1)
                text = "\n".join(errors[0]["content"]["traceback"])
                self.assertEqual(text.count("incompatible types"), 1, text)  # the message once
                kinds["compile"] += 1
            elif kind == 8:
                reply, outputs = self.k.execute(
                    'String line = "x".repeat(1023); for (int j = 0; j < 10 * 1024; j++) System.out.println(line);')
                self.assertEqual(reply["status"], "ok")
                printed = sum(len(o["content"]["text"]) for o in outputs if o["msg_type"] == "stream")
                self.assertEqual(printed, 10 * 1024 * 1024)
                kinds["print10MB"] += 1
            else:
                loop = "while (true) {}" if i % 20 == 9 else "while (true) { Math.sqrt(System.nanoTime()); }"
                reply = self.k.interrupted(loop, after=0.3)
                self.assertEqual(reply["status"], "error")
                self.assertEqual(reply["ename"], "Interrupted")
                kinds["interrupted"] += 1
        seconds, used = self.k.wait_idle_cpu(within=5)
        self.assertEqual(self.k.result("6 * 7"), "42")
        print(f"\n  {kinds}; then kernel CPU {used:.2f} cores after {seconds:.1f} s; 6 * 7 = 42", end=" ")


class RunAllStopsAtFailure(unittest.TestCase):
    """Run All as the Notebook sends it: every code cell at once, stop_on_error=True."""

    def test_run_all_aborts_the_cells_after_an_untagged_failure(self):
        k = KernelSession()
        try:
            with open(os.path.join(os.path.dirname(__file__), "run-all-stops.ipynb")) as f:
                cells = ["".join(c["source"]) for c in json.load(f)["cells"] if c["cell_type"] == "code"]
            ids = [k.kc.execute(code, stop_on_error=True) for code in cells]  # queued behind each other
            statuses = [k.reply(i)["content"]["status"] for i in ids]
            for i in ids:
                k.collect(i)
            self.assertEqual(statuses, ["ok", "error", "aborted", "aborted"])
            reply, _ = k.execute("after")  # declared by an aborted cell: never ran
            self.assertEqual(reply["status"], "error")
            self.assertEqual(k.result("before + 1"), "2")  # the kernel works on, with the state before the error
            print(f"\n  replies: {statuses}", end=" ")
        finally:
            k.close()


class RestartAndHistory(unittest.TestCase):
    def test_restart_leaves_no_orphan_and_history_survives(self):
        k = KernelSession()
        try:
            marker = f"marker{uuid.uuid4().hex[:8]}"
            self.assertEqual(k.result(f'String m = "{marker}"; m.length()'), str(len(marker)))
            old = k.pid()
            k.km.restart_kernel(now=False)
            k.kc.wait_for_ready(timeout=TIMEOUT)
            t0 = time.monotonic()
            while alive(old) and time.monotonic() - t0 < 15:
                time.sleep(0.1)
            self.assertFalse(alive(old), f"the old kernel JVM {old} still runs after the restart")
            self.assertNotEqual(k.pid(), old)
            self.assertEqual(k.result("6 * 7"), "42")
            msg_id = k.kc.history(hist_access_type="search", pattern=f"*{marker}*", output=True, raw=True)
            history = k.reply(msg_id)["content"]["history"]
            self.assertEqual(len(history), 1, history)
            session, line, (source, output) = history[0]
            self.assertIn(marker, source)
            self.assertEqual(output, str(len(marker)))
            msg_id = k.kc.history(hist_access_type="tail", n=1, output=False, raw=True)
            newest = k.reply(msg_id)["content"]["history"][0]
            self.assertEqual(newest[2], "6 * 7")
            self.assertGreater(newest[0], session)  # the restart began a new session
            msg_id = k.kc.history(hist_access_type="range", session=session, start=line, stop=line + 1, raw=True,
                                  output=False)
            self.assertEqual(k.reply(msg_id)["content"]["history"], [[session, line, source]])
            last = k.pid()
        finally:
            k.close()
        t0 = time.monotonic()
        while alive(last) and time.monotonic() - t0 < 15:
            time.sleep(0.1)
        self.assertFalse(alive(last), "the kernel JVM still runs after shutdown")


class CompletionInspectionMaven(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.k = KernelSession()

    @classmethod
    def tearDownClass(cls):
        cls.k.close()

    def complete(self, code, cursor):
        msg_id = self.k.kc.complete(code, cursor)
        return self.k.reply(msg_id)["content"]

    def test_completion_inside_a_longer_line(self):
        code = "int total = Math.ab(3) + 1;"
        cursor = code.index("ab(") + 2
        c = self.complete(code, cursor)
        self.assertIn("abs(", c["matches"])
        self.assertEqual((c["cursor_start"], c["cursor_end"]), (code.index("ab("), cursor))

    def test_completion_of_notebook_declarations_constructors_and_static_imports(self):
        self.k.execute("int myCounterValue = 3;\nString describeCounter(int n) { return \"n=\" + n; }\n"
                       "import static java.util.Collections.unmodifiableList;")
        for code, expected in [("myCounterV", "myCounterValue"), ("describeCou", "describeCounter("),
                               ("new ArrayLi", "ArrayList("), ("unmodifiableLi", "unmodifiableList("),
                               ("List<String> xs = new ArrayList<>(); xs.siz", "size()")]:
            c = self.complete(code, len(code))
            self.assertIn(expected, c["matches"], code)
            self.assertEqual(c["cursor_end"], len(code))
            self.assertEqual(code[c["cursor_start"]:], expected[:len(code) - c["cursor_start"]], code)

    def inspect(self, code):
        msg_id = self.k.kc.inspect(code, len(code), detail_level=0)
        return self.k.reply(msg_id)["content"]

    def test_shift_tab_shows_signature_and_javadoc(self):
        samples = {  # code -> a phrase of its Javadoc summary
            "Math.max(": "Returns the greater of two",
            "tech.tablesaw.api.Table.create(": "Returns a new",
            "ai.djl.ndarray.NDManager.newBaseManager(": "Creates a new top-level",
            "dev.resa.viz.Plots.bars(": "A bar chart of named values",
        }
        for code, phrase in samples.items():
            with self.subTest(code=code):
                r = self.inspect(code)
                self.assertTrue(r["found"], r)
                self.assertIn(phrase, r["data"]["text/plain"])
                self.assertIn(phrase, r["data"]["text/markdown"])
                self.assertIn("```java", r["data"]["text/markdown"])

    def test_maven_magic(self):
        reply, outputs = self.k.execute("%maven org.apache.commons:commons-lang3:3.17.0")
        self.assertEqual(reply["status"], "ok", outputs)
        text = "".join(o["content"]["text"] for o in outputs if o["msg_type"] == "stream")
        self.assertIn("Added org.apache.commons:commons-lang3:jar:3.17.0", text)
        print(f"\n  {text.strip()}", end=" ")
        self.assertEqual(self.k.result(
            "import org.apache.commons.lang3.StringUtils;\nStringUtils.capitalize(\"resa\")"), "Resa")
        reply, outputs = self.k.execute("%maven org.example.missing:nothing-here:0.0.1")
        self.assertEqual(reply["status"], "error")
        self.assertIn("org.example.missing:nothing-here:0.0.1", reply["evalue"])
        self.assertEqual(len([o for o in outputs if o["msg_type"] == "error"]), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
