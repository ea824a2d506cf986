"""Jupyter's own kernel conformance suite (jupyter_kernel_test), configured for the Resa Java kernel.

Run by KernelProtocolTest (Maven test phase) with JUPYTER_PATH pointing at a test kernelspec named in
RESA_TEST_KERNEL. Every sample is real Java; test_pager is skipped
(Java has no pager payload; its documentation is Shift-Tab, test_inspect).
"""
import os
import unittest

import jupyter_kernel_test as jkt



class ResaJavaKernelTests(jkt.KernelTests):
    kernel_name = os.environ.get("RESA_TEST_KERNEL", "resa-java")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The suite allows 15 s per request; the kernel's first cell also waits for JShell to start, which on a
        # loaded 2-core machine can take longer. Run one cell first, with a generous timeout, outside the tests.
        msg_id = cls.kc.execute("1 + 1")
        while cls.kc.get_shell_msg(timeout=180)["parent_header"].get("msg_id") != msg_id:
            pass
    language_name = "java"
    file_extension = ".jshell"

    code_hello_world = 'System.out.println("hello, world");'
    code_stderr = 'System.err.println("to stderr");'
    code_generate_error = 'throw new IllegalStateException("boom");'

    completion_samples = [
        {"text": "Math.sqr", "matches": {"sqrt("}},  # static member
        {"text": "new java.util.ArrayLi", "matches": {"ArrayList("}},  # constructor
        {"text": "\"abc\".toUpperC", "matches": {"toUpperCase("}},  # instance member
    ]
    complete_code_samples = ["1 + 1", "int x = 3;", "void f() {}", "%maven a:b:1"]
    incomplete_code_samples = ["for (int i = 0; i < 3; i++) {", "String s = \"a\" +"]
    invalid_code_samples = []  # JShell reports no input as definitely invalid before compiling it

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "\"a\" + \"b\"", "result": "ab"},
        {"code": "java.util.List.of(1, 2, 3)", "result": "[1, 2, 3]"},
    ]
    code_display_data = [
        {"code": 'display(html("<b>bold</b>"));', "mime": "text/html"},
        {"code": 'display(markdown("## Verdict\\n**passes**"));', "mime": "text/markdown"},
    ]
    # a glob over whole inputs, case-sensitive, no escape character (as IPython's): matches the input '6 * 7' only
    code_history_pattern = "6 ? 7"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "Math.max("
    code_clear_output = 'System.out.println("gone"); clearOutput();'

    def test_pager(self):
        raise unittest.SkipTest("no pager payload in a Java kernel: documentation is Shift-Tab (test_inspect)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
