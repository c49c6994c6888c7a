import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WORKER_NODE_ARGS } from '../../bench/lib/node-args.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('V8 flags of a worker process', () => {
  it('are the same wherever the service is started and in the benchmark', () => {
    const flags = WORKER_NODE_ARGS.join(' ');
    expect(flags).not.toBe('');
    const startScript = JSON.parse(read('package.json')).scripts.start as string;
    expect(startScript).toBe(`scripts/with-node.sh node ${flags} dist/main.js`);
    expect(read('scripts/start.sh')).toContain(`\nnode ${flags} dist/main.js &\n`);
    const dockerCmd = JSON.stringify([
      'node',
      ...WORKER_NODE_ARGS,
      '--import',
      'tsx',
      'src/main.ts',
    ]);
    expect(read('Dockerfile')).toContain(`\nCMD ${dockerCmd.replaceAll(',', ', ')}\n`);
  });
});
