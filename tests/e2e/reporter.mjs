// The browser suite's report (a reporter for `node --test`): a line per test with its time, the
// error of a failed one, what the test files printed, and the closing line CI reads:
// `e2e: N passed, N failed`.
export default async function* reporter(source) {
  let passed = 0;
  let failed = 0;
  for await (const event of source) {
    const { type, data } = event;
    if (type === 'test:stdout' || type === 'test:stderr') {
      yield data.message;
    } else if ((type === 'test:pass' || type === 'test:fail') && data.nesting === 0) {
      if (data.skip) continue;
      const seconds = ((data.details?.duration_ms ?? 0) / 1000).toFixed(1);
      if (type === 'test:pass') {
        passed += 1;
        yield `ok   ${data.name} (${seconds} s)\n`;
      } else {
        failed += 1;
        const error = data.details?.error;
        const why = error?.cause?.stack || error?.cause || error?.message || error;
        yield `FAIL ${data.name} (${seconds} s): ${why}\n`;
      }
    }
  }
  yield `e2e: ${passed} passed, ${failed} failed\n`;
}
