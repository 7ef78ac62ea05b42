import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (`npm test`: in-process, no registry, no bundle) and `itg` (`npm run test:itg`: real
 * registries and the bundled action). `npx vitest run <file>` picks the project the file belongs to.
 */
export default defineConfig({
  test: {
    reporters: ['default', './__tests__/helpers/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['__tests__/**/*.test.ts'],
          exclude: ['__tests__/**/*.itg.test.ts'],
        },
      },
      {
        test: {
          name: 'itg',
          include: ['__tests__/**/*.itg.test.ts'],
          // Each file starts its own registry processes; two cores, so keep the pool small.
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
