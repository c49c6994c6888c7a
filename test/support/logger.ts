import { Writable } from 'node:stream';
import { pino } from 'pino';

/** A pino logger whose lines (at `level` and above) the test can read. */
export function capturedLogger(level: pino.Level = 'warn') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}
