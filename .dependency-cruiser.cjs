/** Layer rules of the coupon service, checked by `npm run lint`. */
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
      name: 'no-circular',
      comment: 'Import cycles make start-up order and testing fragile.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'layers-do-not-reach-up',
      comment: 'infra and domain never import the api or workers layers.',
      severity: 'error',
      from: { path: '^src/(infra|domain)/' },
      to: { path: '^src/(api|workers)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
