// The harness of the checks that run outside the browser suite (check-*.mjs): a check passes
// when its function returns (or resolves to) nothing, and fails with the reason it returns or
// throws; `finish` prints "LABEL: N passed, N failed", the line tests/run-all.sh counts, and
// exits non-zero when one failed.
export function checks(label) {
  let passed = 0, failed = 0;
  return {
    async check(name, fn) {
      try {
        const why = await fn();
        if (why) throw new Error(why);
        passed++;
        console.log(`ok   ${name}`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${name}: ${e.message}`);
      }
    },
    finish() {
      console.log(`${label}: ${passed} passed, ${failed} failed`);
      process.exit(failed ? 1 : 0);
    },
  };
}
