/** From STYLE.md: the core never reaches out to the edges, and no module imports itself in a circle. */
module.exports = {
  forbidden: [
    {
      name: 'core-stays-inward',
      severity: 'error',
      from: { path: '^src/(config|tensor|runtime|repository|scheduler|lifecycle|routing|pipeline|queue|search|processing|embeddings)/' },
      to: { path: '^src/(server|cli|telemetry)/|node_modules/fastify/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: { doNotFollow: { path: 'node_modules' }, tsConfig: { fileName: 'tsconfig.json' } },
};
