import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { textProblem } from '../../src/domain/text.js';

describe('textProblem', () => {
  it('accepts ordinary text in any script', () => {
    for (const value of ['', 'alice', 'Black Friday 10%', '쿠폰 발급', '🎟️ ticket', 'a-b_c.d@e']) {
      expect(textProblem(value), value).toBeNull();
    }
  });

  it('names what PostgreSQL or UTF-8 would refuse', () => {
    expect(textProblem('ord\u0000er')).toBe('NUL');
    expect(textProblem('a\ud800b')).toBe('LONE_SURROGATE');
    expect(textProblem('\udc00')).toBe('LONE_SURROGATE');
    expect(textProblem('bell\u0007')).toBe('CONTROL_CHARACTER');
    expect(textProblem('del\u007f')).toBe('CONTROL_CHARACTER');
    expect(textProblem('c1\u0085')).toBe('CONTROL_CHARACTER');
  });

  it('allows tab and line breaks only in free text', () => {
    expect(textProblem('line one\nline\ttwo\r\n')).toBe('CONTROL_CHARACTER');
    expect(textProblem('line one\nline\ttwo\r\n', { freeText: true })).toBeNull();
    expect(textProblem('form\u000cfeed', { freeText: true })).toBe('CONTROL_CHARACTER');
    expect(textProblem('nul\u0000', { freeText: true })).toBe('NUL');
  });

  // fast-check builds its table of every code point once, on the first binary string: ~3 s here.
  it('accepts exactly the strings PostgreSQL text can hold and a log shows plainly', {
    timeout: 30_000,
  }, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const plain = value.isWellFormed() && !/\p{Cc}/u.test(value);
        expect(textProblem(value) === null).toBe(plain);
      }),
    );
  });
});
