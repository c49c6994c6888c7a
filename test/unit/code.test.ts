import { describe, expect, it } from 'vitest';
import {
  CODE_ALPHABET,
  CODE_LENGTH,
  generateCode,
  looksLikeCode,
  normalizeCode,
} from '../../src/domain/index.js';

/** A byte source that replays 0, 1, …, 255, 0, … and records what it was asked for. */
function countingSource() {
  let next = 0;
  const requests: number[] = [];
  const source = (n: number) => {
    requests.push(n);
    return Uint8Array.from({ length: n }, () => next++ % 256);
  };
  return { source, requests };
}

function fromBytes(...chunks: number[][]) {
  let i = 0;
  return () => Uint8Array.from(chunks[i++] ?? []);
}

describe('CODE_ALPHABET', () => {
  it('has uppercase letters and digits 2-9 without look-alikes, each once', () => {
    expect(CODE_ALPHABET).toMatch(/^[A-Z2-9]+$/);
    for (const c of '01OIL') expect(CODE_ALPHABET).not.toContain(c);
    expect(new Set(CODE_ALPHABET).size).toBe(CODE_ALPHABET.length);
    expect(CODE_ALPHABET.length).toBe(31);
  });

  it('makes codes of at least 10 characters, as the contract requires', () => {
    expect(CODE_LENGTH).toBe(12);
    expect(CODE_LENGTH).toBeGreaterThanOrEqual(10);
  });
});

describe('generateCode', () => {
  it('makes a code of the right length from the alphabet', () => {
    const { source } = countingSource();
    const code = generateCode(source);
    expect(code).toHaveLength(CODE_LENGTH);
    expect(looksLikeCode(code)).toBe(true);
  });

  it('maps accepted bytes by their remainder', () => {
    expect(generateCode(fromBytes([0, 1, 2, 30, 31, 32, 61, 62, 246, 247, 8, 9]))).toBe(
      'ABC9AB9A89JK',
    );
  });

  it('skips bytes that would bias the remainder (248..255)', () => {
    const code = generateCode(
      fromBytes([248, 0, 255, 249, 1, 250, 251, 252, 253, 254, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
    );
    expect(code).toBe('ABCDEFGHJKMN');
  });

  it('asks again when a batch runs short', () => {
    const code = generateCode(
      fromBytes([255, 255, 255], [0, 1, 2], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
    );
    expect(code).toBe('ABCDEFGHJKMN');
  });

  it('gives up on a broken source instead of looping forever', () => {
    expect(() => generateCode((n) => new Uint8Array(n).fill(255))).toThrow(/random source/);
    expect(() => generateCode(() => new Uint8Array(0))).toThrow(/random source/);
  });

  it('is uniform: over every byte value each character comes up equally often', () => {
    const { source, requests } = countingSource();
    const counts = new Map<string, number>();
    // 256 × 31 codes of 12 characters consume whole cycles of 0..255 many times over.
    for (let i = 0; i < 256 * 31; i++) {
      for (const c of generateCode(source)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    const values = [...counts.values()];
    expect(counts.size).toBe(CODE_ALPHABET.length);
    // Leftover bytes at the end of the run can tilt a count by a few, never by the 1/31 share
    // (~8 per 248 bytes) that modulo bias would add to the first eight characters.
    expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(CODE_LENGTH + 4);
    expect(requests.every((n) => n >= 1 && n <= CODE_LENGTH + 4)).toBe(true);
  });

  it('looks uniform with a pseudo-random source (chi-squared)', () => {
    let state = 0x9e3779b9;
    const xorshift = (n: number) =>
      Uint8Array.from({ length: n }, () => {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        return state & 0xff;
      });
    const counts = new Map<string, number>();
    const codes = 20_000;
    for (let i = 0; i < codes; i++) {
      for (const c of generateCode(xorshift)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    const expected = (codes * CODE_LENGTH) / CODE_ALPHABET.length;
    let chi2 = 0;
    for (const c of CODE_ALPHABET) chi2 += ((counts.get(c) ?? 0) - expected) ** 2 / expected;
    // 30 degrees of freedom: p = 0.001 at 59.7. Modulo bias would score in the thousands.
    expect(chi2).toBeLessThan(59.7);
  });
});

describe('normalizeCode', () => {
  it.each([
    ['abcd-efgh-jkmn', 'ABCDEFGHJKMN'],
    ['  ABCD EFGH JKMN \n', 'ABCDEFGHJKMN'],
    ['aBcD--eFgH  jKmN', 'ABCDEFGHJKMN'],
    ['ABCDEFGHJKMN', 'ABCDEFGHJKMN'],
    ['\tabcd\u00a0efgh-jkmn', 'ABCDEFGHJKMN'],
    ['', ''],
  ])('%j → %j', (raw, normalized) => {
    expect(normalizeCode(raw)).toBe(normalized);
  });

  it('does not fold non-ASCII letters into the alphabet', () => {
    expect(normalizeCode('ABCDEFGHJKß')).toBe('ABCDEFGHJKß');
    expect(looksLikeCode(normalizeCode('ABCDEFGHJKß'))).toBe(false);
  });
});

describe('looksLikeCode', () => {
  it.each([
    ['ABCDEFGHJKMN', true],
    ['23456789ABCD', true],
    ['ABCDEFGHJKM', true],
    ['ABCDEFGHJKMNP', true],
    ['BF2026ABCDEFGH', true],
    ['ABCDEFG', false],
    ['ABCDEFGHJKMNPQRSTUVWXYZ234567892', true],
    ['ABCDEFGHJKMNPQRSTUVWXYZ2345678923', false],
    ['abcdefghjkmn', false],
    ['ABCDEFGHJKM0', false],
    ['ABCDEFGHJKMO', false],
    ['ABCDEFGHJKM1', false],
    ['ABCDEFGHJKMI', false],
    ['ABCDEFGHJKML', false],
    ['ABCD-EFGH-JK', false],
    ['', false],
  ])('%j → %s', (code, expected) => {
    expect(looksLikeCode(code)).toBe(expected);
  });

  it('accepts every normalized form of a generated code', () => {
    const { source } = countingSource();
    const code = generateCode(source);
    const typed = `${code.slice(0, 4)}-${code.slice(4, 8)} ${code.slice(8)}`.toLowerCase();
    expect(normalizeCode(typed)).toBe(code);
    expect(looksLikeCode(normalizeCode(typed))).toBe(true);
  });
});
