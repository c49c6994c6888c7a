import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const pinned = read('.node-version').trim();
const major = Number(pinned.split('.')[0]);

describe('the Node.js runtime', () => {
  it('is the pinned release wherever the service runs', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(major).toBeGreaterThanOrEqual(24);
    expect(JSON.parse(read('package.json')).engines.node).toBe(`>=${major}`);
    expect(read('Dockerfile')).toMatch(
      new RegExp(`^FROM node:${pinned.replaceAll('.', '\\.')}-`, 'm'),
    );
  });

  it('runs this suite', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(major);
  });

  it('runs every npm script that starts node code', () => {
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    for (const name of ['start', 'dev', 'migrate', 'build', 'typecheck', 'lint', 'test', 'bench']) {
      expect(scripts[name], name).toMatch(/^scripts\/with-node\.sh /);
    }
  });
});
