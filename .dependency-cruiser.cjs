/** Layer rules of the coupon service, checked by `npm run lint`. See docs/ARCHITECTURE.md. */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain holds the rules as plain TypeScript: it imports nothing outside itself.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { pathNot: '^src/domain/' },
    },
    {
      name: 'use-cases-import-no-adapter',
      comment:
        'src/app (the use cases and their ports) imports the domain and itself only: it talks to ' +
        'the world through its ports, never through an adapter, a library or an entry point.',
      severity: 'error',
      from: { path: '^src/app/' },
      to: { pathNot: '^src/(app|domain)/' },
    },
    {
      name: 'entry-points-reach-stores-through-ports',
      comment:
        'Routes, queue processors and the payment bridge call use cases: they import no ' +
        'persistence or queue adapter (src/infra/db, queue, redis); src/wiring hands them ports.',
      severity: 'error',
      from: { path: '^src/(api/|workers/|infra/kafka/payment-bridge\\.ts$)' },
      to: { path: '^src/infra/(db|queue|redis)/' },
    },
    {
      name: 'api-and-workers-apart',
      comment: 'The HTTP layer and the queue processors never import each other.',
      severity: 'error',
      from: { path: '^src/(api|workers)/' },
      to: { path: '^src/(api|workers)/', pathNot: '^src/$1/' },
    },
    {
      name: 'only-main-wires',
      comment: 'src/wiring builds adapters and hands them out: only the composition root uses it.',
      severity: 'error',
      from: { pathNot: '^src/(main\\.ts$|wiring/)' },
      to: { path: '^src/wiring/' },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles make start-up order and testing fragile.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'layers-do-not-reach-up',
      comment: 'infra, app and domain never import the api, workers or wiring layers.',
      severity: 'error',
      from: { path: '^src/(infra|app|domain)/' },
      to: { path: '^src/(api|workers|wiring)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
