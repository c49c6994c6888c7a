// Prints the suite's closing line, "N passed, N failed", from vitest's JSON report, and exits
// non-zero when anything failed or no test ran at all.
import { existsSync, readFileSync } from 'node:fs';

const [report, vitestStatus] = process.argv.slice(2);
if (!existsSync(report)) {
  console.log('vitest wrote no report: the run failed before any test');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const {
  numPassedTests = 0,
  numFailedTests = 0,
  numTotalTests = 0,
  testResults = [],
} = JSON.parse(readFileSync(report, 'utf8'));
// A file that failed to load (a broken import, a failing beforeAll) counts as a failure.
const brokenFiles = testResults.filter(
  (file) => file.status === 'failed' && file.assertionResults.length === 0,
).length;
const failed = numFailedTests + brokenFiles;
if (numTotalTests === 0) console.log('no test ran');
console.log(`${numPassedTests} passed, ${failed} failed`);
process.exit(failed > 0 || numTotalTests === 0 || vitestStatus !== '0' ? 1 : 0);
